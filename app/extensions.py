"""Extensions created unbound; ``create_app`` binds them to an app."""

from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from app.catalogue import RequestBabel
from app.models_base import Base

db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
login_manager = LoginManager()
babel = RequestBabel()  # the catalogue found once per request (app/catalogue.py)
