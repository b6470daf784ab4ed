"""The authoring forms. Choices are filled per request from the organisation's own tree."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from academy.authoring import tree
from academy.labs.forms import options

KEY = Regexp(r"^[a-z0-9][a-z0-9-]*$", message="Use lower-case letters, digits and hyphens.")
CODE = Regexp(r"^[A-Z][A-Z0-9]{1,15}$", message="Use 2 to 16 capital letters and digits, starting with a letter.")


class NewTrackForm(FlaskForm):
    code = StringField("Track code", validators=[DataRequired(), CODE])
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])


class NewModuleForm(FlaskForm):
    track = SelectField("Track", choices=[], validate_choice=True)
    key = StringField("Module id", validators=[DataRequired(), Length(max=100), KEY])
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    domain = SelectField("Domain", choices=[], validate_choice=False)


class NewLessonForm(FlaskForm):
    module = SelectField("Module", choices=[], validate_choice=True)
    key = StringField("Lesson file name", validators=[DataRequired(), Length(max=100), KEY])
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])


class NewLabForm(NewModuleForm):
    key = StringField("Lab id", validators=[DataRequired(), Length(max=100), KEY])


class CopyForm(FlaskForm):
    source = SelectField("Bundled module or lab", choices=[], validate_choice=True)
    track = SelectField("Into your track", choices=[], validate_choice=True)
    domain = SelectField("Domain", choices=[], validate_choice=False)
    key = StringField("New id", validators=[DataRequired(), Length(max=100), KEY])


class FileForm(FlaskForm):
    text = TextAreaField("File", validators=[Length(max=tree.MAX_FILE_BYTES)])
    note = StringField("What changed (optional)", validators=[Optional(), Length(max=200)])


class AssetForm(FlaskForm):
    module = SelectField("Module", choices=[], validate_choice=True)
    file = FileField("SVG or PNG diagram", validators=[
        FileRequired("Choose a file."), FileSize(tree.MAX_FILE_BYTES, message="The file is larger than 512 KB.")])


class ImportForm(FlaskForm):
    file = FileField("Zip of curricula/ and question_banks/", validators=[
        FileRequired("Choose a zip file."), FileSize(20 * 1024 * 1024, message="The zip is larger than 20 MB.")])


class QuestionForm(FlaskForm):
    bank = SelectField("Track and domain", choices=[], validate_choice=True)
    id = StringField("Question id", validators=[DataRequired(), Length(max=64), KEY])
    type = SelectField("Type", choices=options(("single", "One correct answer"), ("multiple", "Several correct answers"),
                                               ("truefalse", "True or false"), ("ordering", "Put in order"),
                                               ("numeric", "A number")), default="single")
    difficulty = SelectField("Difficulty", choices=options(("1", "1 (recall)"), ("2", "2 (apply)"), ("3", "3 (analyse)")),
                             default="2")
    stem = TextAreaField("Question", validators=[DataRequired(), Length(max=4000)])
    exhibit_kind = SelectField("Exhibit", choices=options(("", "(none)"), ("hl7", "HL7 message"), ("dicom", "DICOM header"),
                                                          ("table", "Table"), ("text", "Text")), default="")
    exhibit = TextAreaField("Exhibit content", validators=[Optional(), Length(max=8000)])
    choice_a = StringField("Choice a", validators=[Optional(), Length(max=500)])
    choice_b = StringField("Choice b", validators=[Optional(), Length(max=500)])
    choice_c = StringField("Choice c", validators=[Optional(), Length(max=500)])
    choice_d = StringField("Choice d", validators=[Optional(), Length(max=500)])
    choice_e = StringField("Choice e", validators=[Optional(), Length(max=500)])
    choice_f = StringField("Choice f", validators=[Optional(), Length(max=500)])
    answer = StringField("Answer: a choice id; for several or an order, ids separated by commas", validators=[Optional(), Length(max=40)])
    value = StringField("Numeric answer", validators=[Optional(), Length(max=40)])
    tolerance = StringField("Tolerance (±)", validators=[Optional(), Length(max=40)])
    unit = StringField("Unit", validators=[Optional(), Length(max=40)])
    explanation = TextAreaField("Explanation shown after answering", validators=[DataRequired(), Length(max=4000)])
    references = TextAreaField("References, one per line (DICOM PS3.x section, HL7 v2 chapter, IHE transaction)",
                               validators=[Optional(), Length(max=2000)])
