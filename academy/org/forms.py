from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import BooleanField, DateField, EmailField, PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from academy.auth.passwords import MAX_LENGTH, MIN_LENGTH
from academy.labs.forms import options


class InviteForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    role = SelectField("Role", choices=options(("trainee", "Trainee"), ("instructor", "Instructor"),
                                               ("org_admin", "Organisation administrator")), default="trainee")
    cohort = SelectField("Cohort", choices=[], validate_choice=False)


class CsvInviteForm(FlaskForm):
    file = FileField("CSV file (email,name,role,cohort)", validators=[
        FileRequired("Choose a CSV file."), FileSize(1024 * 1024, message="The file is larger than 1 MB.")])


class CohortForm(FlaskForm):
    name = StringField("New cohort", validators=[DataRequired(), Length(max=120)])


class MemberForm(FlaskForm):
    user_id = SelectField("Person", choices=[], coerce=int, validate_choice=False)
    as_instructor = BooleanField("As an instructor of the cohort")


class AssignmentForm(FlaskForm):
    kind = SelectField("Assign", choices=options(("track", "A track"), ("path", "An onboarding path"), ("module", "A module"),
                                                 ("lab", "A lab"), ("exam", "A mock exam")), default="track")
    target = StringField("Which (track code, path id, TRACK/module id, lab id)", validators=[DataRequired(), Length(max=120)])
    due_on = DateField("Due on", validators=[DataRequired("Give the due date.")])
    requires_signoff = BooleanField("Needs a supervisor's sign-off")


class SignOffForm(FlaskForm):
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])


class AcceptInvitationForm(FlaskForm):
    display_name = StringField("Your name", validators=[DataRequired(), Length(max=120)])
    password = PasswordField("Choose a password", validators=[DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH,
                                                                                      message=f"Use {MIN_LENGTH} to {MAX_LENGTH} characters.")])
    confirm = PasswordField("The password again", validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")])
    submit = SubmitField("Create my account")


class LrsForm(FlaskForm):
    endpoint = StringField("LRS endpoint (https://...)", validators=[Optional(), Length(max=300)])
    username = StringField("Key / username", validators=[Optional(), Length(max=200)])
    secret = PasswordField("Secret (leave empty to keep the current one)", validators=[Optional(), Length(max=300)])
