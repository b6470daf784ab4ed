from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class PathForm(FlaskForm):
    text = TextAreaField("The path (the curricula/paths format)", validators=[DataRequired(), Length(max=50_000)])
    submit = SubmitField("Save")
