"""Console and lab forms. AE titles follow DICOM PS3.5 Table 6.2-1 (AE VR): at most 16 characters,
no backslash and no control characters; leading and trailing spaces are not significant."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileSize
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

AE_TITLE = Regexp(r"^[^\\\x00-\x1f\x7f]*$", message="An AE title cannot hold a backslash or control characters.")
UID = Regexp(r"^[0-9.]*$", message="A UID holds only digits and dots.")
MAX_UPLOAD = 20 * 1024 * 1024


def ae_field(label: str, required: bool = True, default: str = "") -> StringField:
    checks = [DataRequired(f"Enter the {label.lower()}.")] if required else [Optional()]
    return StringField(label, default=default, validators=checks + [Length(max=16, message="An AE title has at most 16 characters."), AE_TITLE],
                       filters=[lambda v: v.strip() if isinstance(v, str) else v])


class NotBlank:
    def __call__(self, form, field):
        if isinstance(field.data, str) and field.data and not field.data.strip():
            raise ValidationError("This cannot be only spaces.")


def options(*pairs: tuple[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def device_field(default: str) -> StringField:
    """The calling AE title: WS, CT or MR for the partition's own devices, or any AE title, for a
    device the archive may not know yet."""
    return StringField("Calling AE title", default=default,
                       description="WS, CT or MR for this partition's workstation and scanners, or any AE title",
                       validators=[DataRequired("Enter the calling AE title."), Length(max=16, message="An AE title has at most 16 characters."), AE_TITLE],
                       filters=[lambda v: v.strip() if isinstance(v, str) else v])

LEVELS = options(("PATIENT", "Patient"), ("STUDY", "Study"), ("SERIES", "Series"), ("IMAGE", "Image"))
MODELS = options(("STUDY", "Study Root"), ("PATIENT", "Patient Root"))


class EchoForm(FlaskForm):
    device = device_field("WS")
    node = ae_field("Called AE title")


class FindForm(FlaskForm):
    device = device_field("WS")
    node = ae_field("Called AE title")
    model = SelectField("Information model", choices=MODELS, default="STUDY")
    level = SelectField("Level", choices=LEVELS, default="STUDY")
    PatientID = StringField("Patient ID", validators=[Optional(), Length(max=64)])
    PatientName = StringField("Patient name", validators=[Optional(), Length(max=64)],
                              description="Wildcards: * and ?, e.g. DOE^*")
    StudyDate = StringField("Study date", validators=[Optional(), Length(max=17), Regexp(r"^[0-9-]*$", message="Use YYYYMMDD or a range YYYYMMDD-YYYYMMDD.")])
    AccessionNumber = StringField("Accession number", validators=[Optional(), Length(max=16)])
    ModalitiesInStudy = StringField("Modalities in study", validators=[Optional(), Length(max=16)])
    StudyInstanceUID = StringField("Study Instance UID", validators=[Optional(), Length(max=64), UID])
    SeriesInstanceUID = StringField("Series Instance UID", validators=[Optional(), Length(max=64), UID])

    KEYS = ("PatientID", "PatientName", "StudyDate", "AccessionNumber", "ModalitiesInStudy",
            "StudyInstanceUID", "SeriesInstanceUID")

    def identifier(self) -> dict:
        return {key: getattr(self, key).data.strip() for key in self.KEYS if (getattr(self, key).data or "").strip()}


class RetrieveForm(FlaskForm):
    device = device_field("WS")
    node = ae_field("Called AE title")
    destination = ae_field("Move destination", required=False)
    level = SelectField("Level", choices=options(("STUDY", "Study"), ("SERIES", "Series")), default="STUDY")
    StudyInstanceUID = StringField("Study Instance UID", validators=[DataRequired("Enter the Study Instance UID."), Length(max=64), UID])
    SeriesInstanceUID = StringField("Series Instance UID", validators=[Optional(), Length(max=64), UID])


class CommitForm(FlaskForm):
    device = device_field("CT")
    node = ae_field("Called AE title")
    StudyInstanceUID = StringField("Study Instance UID", validators=[DataRequired("Enter the Study Instance UID."), Length(max=64), UID])


class StoreForm(FlaskForm):
    device = device_field("CT")
    node = ae_field("Called AE title")
    modality = SelectField("Generate a study", choices=options(*((m, m) for m in ("CT", "MR", "CR", "DX", "US", "NM", "XA"))),
                           default="CT")
    images = IntegerField("Images", default=3, validators=[NumberRange(1, 50)])
    upload = FileField("…or send a DICOM file", validators=[FileSize(MAX_UPLOAD, message="The file is larger than 20 MB.")])


class NodeForm(FlaskForm):
    ae_title = ae_field("AE title")
    host = StringField("Host", validators=[DataRequired("Enter the host."), Length(max=255), NotBlank(),
                                           Regexp(r"^[A-Za-z0-9.:-]+$", message="A host name or IP address.")])
    port = IntegerField("Port", validators=[DataRequired("Enter the port."), NumberRange(1, 65535, message="A port is 1 to 65535.")])
    description = StringField("Description", validators=[Optional(), Length(max=120)])


class RemoveNodeForm(FlaskForm):
    ae_title = ae_field("AE title")


class EditPatientForm(FlaskForm):
    patient_id = StringField("Patient ID to correct", validators=[DataRequired(), Length(max=64)])
    new_patient_id = StringField("New patient ID", validators=[Optional(), Length(max=64)])
    patient_name = StringField("New name (Family^Given)", validators=[Optional(), Length(max=64)])
    birth_date = StringField("New birth date (YYYYMMDD)", validators=[Optional(), Regexp(r"^\d{8}$", message="Use YYYYMMDD.")])
    sex = SelectField("New sex", choices=options(("", "unchanged"), ("M", "M"), ("F", "F"), ("O", "O")), default="")


class MergeForm(FlaskForm):
    source = StringField("Duplicate patient ID (merged away)", validators=[DataRequired(), Length(max=64)])
    target = StringField("Surviving patient ID", validators=[DataRequired(), Length(max=64)])


class MoveSeriesForm(FlaskForm):
    series_uid = StringField("Series Instance UID", validators=[DataRequired(), Length(max=64), UID])
    target_study_uid = StringField("Into Study Instance UID", validators=[DataRequired(), Length(max=64), UID])


class DeleteStudyForm(FlaskForm):
    study_uid = StringField("Study Instance UID", validators=[DataRequired(), Length(max=64), UID])
    confirm = StringField("Type DELETE to confirm", validators=[DataRequired(), Regexp(r"^DELETE$", message="Type DELETE to confirm.")])


class AnswersForm(FlaskForm):
    """The knowledge answers of a run; fields are read by check id from the request."""




class RoutingRuleForm(FlaskForm):
    destination_ae = ae_field("Forward to (AE title)")
    modality = StringField("When the modality is", validators=[Optional(), Length(max=16)])
    calling_ae = ae_field("When sent by (calling AE title)", required=False)
    study_description = StringField("When the study description is", validators=[Optional(), Length(max=64)])


class RemoveRuleForm(FlaskForm):
    rule_id = IntegerField("Rule", validators=[DataRequired()])


class RetentionForm(FlaskForm):
    older_than_days = IntegerField("Studies older than (days)", validators=[DataRequired(), NumberRange(1, 36500)])
    action = SelectField("Action", choices=options(("flag", "Flag for review"), ("delete", "Delete")), default="flag")


class PatientForm(FlaskForm):
    trigger = SelectField("Message", choices=options(("A04", "ADT^A04 register an outpatient"),
                                                      ("A01", "ADT^A01 admit an inpatient"),
                                                      ("A08", "ADT^A08 update patient information")), default="A04")
    patient_id = StringField("Patient ID (PID-3)", validators=[DataRequired(), Length(max=20), Regexp(r"^[A-Za-z0-9-]+$", message="Letters, digits and hyphens.")])
    family = StringField("Family name", validators=[DataRequired(), Length(max=40), Regexp(r"^[^|^~\\&]*$", message="No HL7 delimiters (| ^ ~ \\ &).")])
    given = StringField("Given name", validators=[Optional(), Length(max=40), Regexp(r"^[^|^~\\&]*$", message="No HL7 delimiters (| ^ ~ \\ &).")])
    birth_date = StringField("Birth date (YYYYMMDD)", validators=[DataRequired(), Regexp(r"^\d{8}$", message="Use YYYYMMDD.")])
    sex = SelectField("Sex", choices=options(("F", "F"), ("M", "M"), ("O", "O"), ("U", "U")), default="F")


class OrderForm(FlaskForm):
    control = SelectField("Order control (ORC-1)", choices=options(("NW", "NW new order"), ("CA", "CA cancel the order")), default="NW")
    patient_id = StringField("Patient ID", validators=[DataRequired(), Length(max=20)])
    placer = StringField("Placer order number (ORC-2)", validators=[DataRequired(), Length(max=22), Regexp(r"^[A-Za-z0-9-]+$", message="Letters, digits and hyphens.")])
    procedure = SelectField("Procedure (OBR-4)", choices=[])
    accession = StringField("Accession number (OBR-18, optional)", validators=[Optional(), Length(max=16), Regexp(r"^[A-Za-z0-9-]*$", message="Letters, digits and hyphens.")])


class RawMessageForm(FlaskForm):
    message = TextAreaField("HL7 message", validators=[DataRequired("Paste or write a message."), Length(max=65536)],
                            description="Segments on separate lines (sent with the carriage return HL7 requires); MSH-6 must be your partition.")


class WorklistForm(FlaskForm):
    device = SelectField("As the modality", choices=options(("CT", "CT scanner"), ("MR", "MR scanner")), default="CT")
    accession = StringField("Accession number (to perform one exam)", validators=[Optional(), Length(max=16)])
