"""`flask --app app user create` makes accounts that can log in; bad input is a clear error."""
from sqlalchemy import select

from academy.extensions import db
from academy.models import Organization, User


def test_user_create_with_password_on_stdin(app, runner, auth):
    result = runner.invoke(args=["user", "create", "new.analyst@general.example.org", "--role", "trainee",
                                 "--org", "General Hospital", "--name", "New Analyst", "--password-stdin"],
                           input="correct horse battery\n")
    assert result.exit_code == 0, result.output
    assert "Created trainee new.analyst@general.example.org in General Hospital" in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.analyst@general.example.org"))
        assert user.role == "trainee" and user.display_name == "New Analyst"
        assert user.password_hash.startswith("$argon2id$")
    assert auth.login(email="new.analyst@general.example.org", password="correct horse battery").status_code == 302


def test_user_create_prompts_for_the_password_twice(app, runner):
    result = runner.invoke(args=["user", "create", "boss@academy.example.org", "--role", "site_admin"],
                           input="a long enough password\na long enough password\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "boss@academy.example.org")).is_site_admin


def test_user_create_refuses_bad_input_and_writes_nothing(app, runner):
    cases = [
        (["not-an-email", "--role", "trainee", "--org", "X Hospital"], "is not a valid email address"),
        (["a@b.example.org", "--role", "trainee", "--org", "X Hospital"], "at least 10 characters", "short\n"),
        (["a@b.example.org", "--role", "trainee"], "belongs to an organisation"),
        (["a@b.example.org", "--role", "wizard", "--org", "X Hospital"], "Invalid value for '--role'"),
    ]
    for args, message, *password in cases:
        result = runner.invoke(args=["user", "create", *args, "--password-stdin"],
                               input=password[0] if password else "a long enough password\n")
        assert result.exit_code != 0
        assert message in result.output, result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "a@b.example.org")) is None
        assert db.session.scalar(select(Organization).where(Organization.name == "X Hospital")) is None


def test_user_create_refuses_a_duplicate_email(app, runner, accounts):
    result = runner.invoke(args=["user", "create", accounts["trainee"].email.upper(), "--role", "trainee",
                                 "--org", "General Hospital", "--password-stdin"], input="a long enough password\n")
    assert result.exit_code != 0 and "already exists" in result.output


def test_init_migrates_imports_and_optionally_makes_the_demo(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'init.db'}")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "Imported 2 tracks" in result.output and "2 labs, 11 questions" in result.output
    with app.app_context():
        assert db.session.scalar(select(User)) is None
    result = runner.invoke(args=["init", "--demo"])
    assert "Content is up to date." in result.output and "trainee@demo-hospital.example.org" in result.output
