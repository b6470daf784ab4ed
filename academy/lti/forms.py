"""The org admin's form for a platform registration (values come from the LMS's tool registration page)."""
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class PlatformForm(FlaskForm):
    name = StringField("Name (for you)", validators=[DataRequired(), Length(max=120)])
    issuer = StringField("Platform ID / issuer (iss)", validators=[DataRequired(), Length(max=255)])
    client_id = StringField("Client ID", validators=[DataRequired(), Length(max=255)])
    deployment_ids = TextAreaField("Deployment ID(s), one a line", validators=[DataRequired(), Length(max=13000)])
    auth_login_url = StringField("Authentication request URL", validators=[DataRequired(), Length(max=500)])
    access_token_url = StringField("Access token URL", validators=[DataRequired(), Length(max=500)])
    key_set_url = StringField("Public keyset URL", validators=[DataRequired(), Length(max=500)])
