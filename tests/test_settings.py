import datetime
import enum
import pickle
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import pytest

from satchel.settings import Settings, SettingsError

NO_FILE: dict[str, Any] = {"env_file": None}


def load(environ: dict[str, str], **overrides: Any) -> Settings:
    return Settings.from_env(environ=environ, env_file=None, **overrides)


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(environ: dict[str, str], cls: type[Settings] = Settings, **kwargs: Any) -> str:
    with pytest.raises(SettingsError) as info:
        cls.from_env(environ=environ, **{"env_file": None, **kwargs})
    return str(info.value)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Pool(msgspec.Struct):
    size: int
    timeout: float = 5.0


class AppSettings(Settings):
    database_url: str = "sqlite+aiosqlite:///app.db"
    feature_x: bool = False
    ratio: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.5
    ports: list[int] = msgspec.field(default_factory=list)
    tags: set[str] = msgspec.field(default_factory=set)
    names: frozenset[str] = frozenset()
    pair: tuple[int, str] = (0, "")
    steps: tuple[int, ...] = ()
    options: dict[str, int] = msgspec.field(default_factory=dict)
    pool: Pool | None = None
    mode: Literal["dev", "prod"] = "dev"
    color: Color = Color.RED
    level: Level = Level.LOW
    started: datetime.datetime | None = None
    day: datetime.date | None = None
    timeout: datetime.timedelta = datetime.timedelta(seconds=1)
    limit: int | None = 10
    anything: int | str = 0
    db_password: str = ""
    api_token: str = ""
    signing: Annotated[str, msgspec.Meta(extra={"secret": True})] = ""
    token_ttl: Annotated[int, msgspec.Meta(ge=0, extra={"secret": False})] = 60


class RequiredSettings(Settings, kw_only=True):
    region: str
    replicas: Annotated[int, msgspec.Meta(ge=1)]


# --- defaults ----------------------------------------------------------------------


def test_defaults() -> None:
    settings = Settings()
    assert settings.debug is False
    assert settings.secret_key == ""
    assert settings.allowed_hosts == ["localhost", "127.0.0.1", "[::1]", "testserver"]
    assert settings.trusted_proxies == []
    assert settings.max_body_size == 2_621_440
    assert settings.max_upload_size == 104_857_600
    assert settings.max_form_fields == 1000
    assert settings.max_form_files == 100
    assert settings.max_part_header_size == 16_384
    assert settings.max_json_depth == 64
    assert settings.spool_max_size == 1_048_576
    assert settings.access_log is True
    assert settings.redirect_slashes is True


def test_from_env_with_nothing_set_gives_defaults() -> None:
    assert load({}) == Settings()


def test_mutable_defaults_are_not_shared() -> None:
    assert Settings().allowed_hosts is not Settings().allowed_hosts


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATCHEL_DEBUG", "true")
    assert Settings.from_env(env_file=None).debug is True


def test_reads_dot_env_in_working_directory_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, "SATCHEL_MAX_JSON_DEPTH=8\n")
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env(environ={}).max_json_depth == 8


def test_missing_env_file_is_fine(tmp_path: Path) -> None:
    settings = Settings.from_env(environ={}, env_file=tmp_path / "absent.env")
    assert settings == Settings()


# --- conversions -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["1", "true", "True", "TRUE", "yes", "Yes", "on", "ON", " true ", "yEs"]
)
def test_bool_true(text: str) -> None:
    assert load({"SATCHEL_DEBUG": text}).debug is True


@pytest.mark.parametrize("text", ["0", "false", "False", "no", "NO", "off", "Off", " 0 "])
def test_bool_false(text: str) -> None:
    assert load({"SATCHEL_ACCESS_LOG": text}).access_log is False


@pytest.mark.parametrize("text", ["maybe", "", "2", "y", "enabled"])
def test_bool_invalid(text: str) -> None:
    message = error_of({"SATCHEL_DEBUG": text})
    assert message == (
        f"SATCHEL_DEBUG: expected bool (1/0, true/false, yes/no, on/off), got {text!r}"
    )


@pytest.mark.parametrize(
    ("text", "expected"), [("42", 42), (" 42 ", 42), ("1_000", 1000), ("+7", 7), ("1e3", 1000)]
)
def test_int(text: str, expected: int) -> None:
    assert load({"SATCHEL_MAX_BODY_SIZE": text}).max_body_size == expected


def test_int_invalid() -> None:
    message = error_of({"SATCHEL_MAX_BODY_SIZE": "lots"})
    assert message == "SATCHEL_MAX_BODY_SIZE: expected int >= 1, got 'lots'"


@pytest.mark.parametrize("text", ["0", "-5"])
def test_int_constraint(text: str) -> None:
    message = error_of({"SATCHEL_MAX_BODY_SIZE": text})
    assert message == f"SATCHEL_MAX_BODY_SIZE: expected int >= 1, got {text!r}"


def test_zero_allowed_where_it_means_something() -> None:
    settings = load({"SATCHEL_MAX_FORM_FILES": "0", "SATCHEL_SPOOL_MAX_SIZE": "0"})
    assert (settings.max_form_files, settings.spool_max_size) == (0, 0)
    message = error_of({"SATCHEL_SPOOL_MAX_SIZE": "-1"})
    assert message == "SATCHEL_SPOOL_MAX_SIZE: expected int >= 0, got '-1'"


def test_float_and_constraint() -> None:
    assert AppSettings.from_env(environ={"SATCHEL_RATIO": "0.25"}, **NO_FILE).ratio == 0.25
    message = error_of({"SATCHEL_RATIO": "2"}, AppSettings)
    assert message == "SATCHEL_RATIO: expected float > 0, <= 1, got '2'"


def test_str_is_kept_verbatim() -> None:
    settings = AppSettings.from_env(
        environ={"SATCHEL_DATABASE_URL": " postgresql://db/app ", "SATCHEL_SECRET_KEY": ""},
        **NO_FILE,
    )
    assert settings.database_url == " postgresql://db/app "
    assert settings.secret_key == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com", ["example.com"]),
        ("a.example, b.example", ["a.example", "b.example"]),
        (" a.example ,, b.example, ", ["a.example", "b.example"]),
        ("", []),
        ('["a.example", "b.example"]', ["a.example", "b.example"]),
        ("[]", []),
        ("[::1]", ["[::1]"]),
        ("[::1], localhost", ["[::1]", "localhost"]),
    ],
)
def test_list_of_str(text: str, expected: list[str]) -> None:
    assert load({"SATCHEL_ALLOWED_HOSTS": text}).allowed_hosts == expected


def test_list_of_int() -> None:
    cls = AppSettings
    assert cls.from_env(environ={"SATCHEL_PORTS": "80, 443"}, **NO_FILE).ports == [80, 443]
    assert cls.from_env(environ={"SATCHEL_PORTS": "[80, 443]"}, **NO_FILE).ports == [80, 443]
    message = error_of({"SATCHEL_PORTS": "80,http"}, cls)
    assert message.startswith(
        "SATCHEL_PORTS: expected list[int] (JSON array or comma-separated), got '80,http'"
    )
    assert "$[1]" in message


def test_sets_and_tuples() -> None:
    settings = AppSettings.from_env(
        environ={
            "SATCHEL_TAGS": "a, b, a",
            "SATCHEL_NAMES": '["x", "y"]',
            "SATCHEL_PAIR": "8, eight",
            "SATCHEL_STEPS": "1,2,3",
        },
        **NO_FILE,
    )
    assert settings.tags == {"a", "b"}
    assert settings.names == frozenset({"x", "y"})
    assert settings.pair == (8, "eight")
    assert settings.steps == (1, 2, 3)
    message = error_of({"SATCHEL_PAIR": "1, a, b"}, AppSettings)
    assert message.startswith("SATCHEL_PAIR: expected tuple[int, str]")


def test_dict_and_struct_from_json() -> None:
    settings = AppSettings.from_env(
        environ={"SATCHEL_OPTIONS": '{"a": 1}', "SATCHEL_POOL": '{"size": 4}'}, **NO_FILE
    )
    assert settings.options == {"a": 1}
    assert settings.pool == Pool(size=4)


def test_invalid_json() -> None:
    message = error_of({"SATCHEL_OPTIONS": "{a: 1"}, AppSettings)
    assert message.startswith(
        "SATCHEL_OPTIONS: expected dict[str, int] (JSON object), got '{a: 1' (invalid JSON: "
    )


def test_nested_struct_error_has_path() -> None:
    message = error_of({"SATCHEL_POOL": '{"size": "big"}'}, AppSettings)
    assert message.startswith("SATCHEL_POOL: expected Pool (JSON object), or empty for None")
    assert "$.size" in message


def test_literal_and_enums() -> None:
    settings = AppSettings.from_env(
        environ={"SATCHEL_MODE": "prod", "SATCHEL_COLOR": " blue ", "SATCHEL_LEVEL": "2"},
        **NO_FILE,
    )
    assert (settings.mode, settings.color, settings.level) == ("prod", Color.BLUE, Level.HIGH)
    message = error_of({"SATCHEL_MODE": "staging", "SATCHEL_COLOR": "green"}, AppSettings)
    assert "SATCHEL_MODE: expected one of 'dev', 'prod', got 'staging'" in message
    assert "SATCHEL_COLOR: expected one of 'red', 'blue', got 'green'" in message


def test_dates_and_durations() -> None:
    settings = AppSettings.from_env(
        environ={
            "SATCHEL_STARTED": "2024-05-01T12:00:00Z",
            "SATCHEL_DAY": "2024-05-01",
            "SATCHEL_TIMEOUT": "PT30S",
        },
        **NO_FILE,
    )
    assert settings.started == datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC)
    assert settings.day == datetime.date(2024, 5, 1)
    assert settings.timeout == datetime.timedelta(seconds=30)
    message = error_of({"SATCHEL_STARTED": "yesterday"}, AppSettings)
    assert message.startswith(
        "SATCHEL_STARTED: expected datetime (RFC 3339), or empty for None, got 'yesterday'"
    )


def test_optional_empty_is_none() -> None:
    environ = {"SATCHEL_LIMIT": "", "SATCHEL_POOL": " ", "SATCHEL_DAY": ""}
    settings = AppSettings.from_env(environ=environ, **NO_FILE)
    assert (settings.limit, settings.pool, settings.day) == (None, None, None)
    assert AppSettings.from_env(environ={"SATCHEL_LIMIT": "3"}, **NO_FILE).limit == 3


def test_union_without_none() -> None:
    assert AppSettings.from_env(environ={"SATCHEL_ANYTHING": "x"}, **NO_FILE).anything == "x"


# --- precedence --------------------------------------------------------------------


def test_precedence_override_env_dotenv_default(tmp_path: Path) -> None:
    env_file = write_env(
        tmp_path,
        "SATCHEL_MAX_BODY_SIZE=10\nSATCHEL_MAX_UPLOAD_SIZE=20\nSATCHEL_MAX_FORM_FIELDS=30\n",
    )
    environ = {"SATCHEL_MAX_BODY_SIZE": "11", "SATCHEL_MAX_UPLOAD_SIZE": "21"}
    settings = Settings.from_env(environ=environ, env_file=env_file, max_body_size=12)
    assert settings.max_body_size == 12  # override beats environment and .env
    assert settings.max_upload_size == 21  # environment beats .env
    assert settings.max_form_fields == 30  # .env beats default
    assert settings.max_form_files == 100  # default


def test_override_skips_a_bad_variable() -> None:
    assert load({"SATCHEL_DEBUG": "maybe"}, debug=True).debug is True


def test_overrides_are_validated() -> None:
    message = error_of({}, max_body_size=0)
    assert message == "max_body_size (keyword override): expected int >= 1, got 0"
    message = error_of({}, debug="yes")
    assert message.startswith("debug (keyword override): expected bool")


def test_unknown_override_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="unknown setting"):
        Settings.from_env(environ={}, env_file=None, max_bodysize=1)


def test_unknown_prefixed_variables_are_ignored(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, "SATCHEL_NOT_A_FIELD=1\nOTHER=2\n")
    environ = {"SATCHEL_TELEMETRY": "whatever", "DEBUG": "true"}
    assert Settings.from_env(environ=environ, env_file=env_file) == Settings()


def test_custom_prefix(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, "MYAPP_MAX_JSON_DEPTH=3\nSATCHEL_MAX_FORM_FILES=1\n")
    environ = {"MYAPP_DEBUG": "on", "SATCHEL_ACCESS_LOG": "off"}
    settings = Settings.from_env(environ=environ, env_file=env_file, prefix="MYAPP_")
    assert settings.debug is True
    assert settings.max_json_depth == 3
    assert settings.access_log is True
    assert settings.max_form_files == 100


# --- subclasses ----------------------------------------------------------------------


def test_subclass_fields() -> None:
    environ = {"SATCHEL_DATABASE_URL": "sqlite:///t.db", "SATCHEL_FEATURE_X": "yes"}
    settings = AppSettings.from_env(environ=environ | {"SATCHEL_DEBUG": "1"}, **NO_FILE)
    assert isinstance(settings, AppSettings)
    assert settings.database_url == "sqlite:///t.db"
    assert settings.feature_x is True
    assert settings.debug is True


def test_subclass_required_fields() -> None:
    settings = RequiredSettings.from_env(
        environ={"SATCHEL_REGION": "eu", "SATCHEL_REPLICAS": "3"}, **NO_FILE
    )
    assert (settings.region, settings.replicas) == ("eu", 3)
    message = error_of({}, RequiredSettings)
    assert "SATCHEL_REGION: required (str), not set" in message
    assert "SATCHEL_REPLICAS: required (int >= 1), not set" in message


def test_subclass_required_field_by_override() -> None:
    settings = RequiredSettings.from_env(environ={}, env_file=None, region="us", replicas=1)
    assert settings.region == "us"


def test_subclass_post_init_error_names_the_variable() -> None:
    class Checked(Settings):
        min_workers: int = 1
        max_workers: int = 4

        def __post_init__(self) -> None:
            super().__post_init__()
            if self.max_workers < self.min_workers:
                raise ValueError("max_workers: must be >= min_workers")

    environ = {"SATCHEL_MIN_WORKERS": "8"}
    assert error_of(environ, Checked) == "SATCHEL_MAX_WORKERS: must be >= min_workers"


def test_post_init_error_without_field_names_the_class() -> None:
    class Checked(Settings):
        def __post_init__(self) -> None:
            raise ValueError("nothing works")

    assert error_of({}, Checked) == "Checked: nothing works"


# --- trusted proxies -----------------------------------------------------------------


def test_trusted_proxies() -> None:
    environ = {"SATCHEL_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7, ::1, fd00::/8"}
    settings = load(environ)
    assert settings.trusted_proxies == ["10.0.0.0/8", "192.168.1.7", "::1", "fd00::/8"]


def test_trusted_proxies_invalid() -> None:
    message = error_of({"SATCHEL_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local, 10.0.0.0/33"})
    assert message == (
        "SATCHEL_TRUSTED_PROXIES: expected IP addresses or CIDR networks, "
        "got 'proxy.local', '10.0.0.0/33'"
    )
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings(trusted_proxies=["nope"])


# --- .env files ----------------------------------------------------------------------


def read_env(tmp_path: Path, text: str, cls: type[Settings] = AppSettings) -> Any:
    return cls.from_env(environ={}, env_file=write_env(tmp_path, text))


def test_env_file_format(tmp_path: Path) -> None:
    settings = read_env(
        tmp_path,
        "# a comment\n"
        "\n"
        "   # indented comment\n"
        "export SATCHEL_DEBUG=true\n"
        "SATCHEL_DATABASE_URL = postgresql://db/app   # inline comment\n"
        "SATCHEL_SECRET_KEY=abc#def\n"
        "SATCHEL_ALLOWED_HOSTS=\n"
        "OTHER_TOOL=ignored\n",
    )
    assert settings.debug is True
    assert settings.database_url == "postgresql://db/app"
    assert settings.secret_key == "abc#def"
    assert settings.allowed_hosts == []


def test_env_file_single_quotes_are_literal(tmp_path: Path) -> None:
    settings = read_env(tmp_path, "SATCHEL_DATABASE_URL='a\\nb \"c\" # d'  # comment\n")
    assert settings.database_url == 'a\\nb "c" # d'


def test_env_file_double_quote_escapes(tmp_path: Path) -> None:
    settings = read_env(tmp_path, 'SATCHEL_DATABASE_URL="line\\nnext \\"q\\" \\\\ C:\\temp"\n')
    assert settings.database_url == 'line\nnext "q" \\ C:\\temp'


def test_env_file_no_interpolation(tmp_path: Path) -> None:
    settings = read_env(tmp_path, 'SATCHEL_DATABASE_URL="${HOME}/$(whoami)"\n')
    assert settings.database_url == "${HOME}/$(whoami)"


def test_env_file_crlf_bom_and_last_key_wins(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"\xef\xbb\xbfSATCHEL_MAX_JSON_DEPTH=5\r\nSATCHEL_MAX_JSON_DEPTH=6\r\n")
    assert Settings.from_env(environ={}, env_file=str(path)).max_json_depth == 6


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("SATCHEL_DEBUG", "expected KEY=value"),
        ("1SATCHEL=1", "expected KEY=value"),
        ("SATCHEL-DEBUG=1", "expected KEY=value"),
        ("SATCHEL_SECRET_KEY='open", "unterminated single-quoted value"),
        ('SATCHEL_SECRET_KEY="open', "unterminated double-quoted value"),
        ('SATCHEL_SECRET_KEY="a\\"', "unterminated double-quoted value"),
        ("SATCHEL_SECRET_KEY='a' b", "unexpected text after the closing quote"),
        ('SATCHEL_SECRET_KEY="a"b', "unexpected text after the closing quote"),
    ],
)
def test_env_file_malformed_line(tmp_path: Path, line: str, reason: str) -> None:
    path = write_env(tmp_path, f"# header\n\n{line}\n")
    with pytest.raises(SettingsError) as info:
        Settings.from_env(environ={}, env_file=path)
    assert str(info.value) == f"{path}, line 3: {reason}"
    assert "open" not in str(info.value)


def test_env_file_errors_are_collected(tmp_path: Path) -> None:
    path = write_env(tmp_path, "oops\nSATCHEL_DEBUG=maybe\nSATCHEL_X='y\n")
    with pytest.raises(SettingsError) as info:
        Settings.from_env(environ={}, env_file=path)
    assert info.value.errors == (
        f"{path}, line 1: expected KEY=value",
        f"{path}, line 3: unterminated single-quoted value",
        f"SATCHEL_DEBUG ({path}, line 2): expected bool (1/0, true/false, yes/no, on/off), "
        "got 'maybe'",
    )


def test_env_file_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read the file"):
        Settings.from_env(environ={}, env_file=tmp_path)


def test_env_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"SATCHEL_SECRET_KEY=\xff\n")
    with pytest.raises(SettingsError, match="cannot read the file"):
        Settings.from_env(environ={}, env_file=path)


# --- errors --------------------------------------------------------------------------


def test_several_errors_reported_together() -> None:
    environ = {
        "SATCHEL_DEBUG": "maybe",
        "SATCHEL_MAX_BODY_SIZE": "lots",
        "SATCHEL_MAX_JSON_DEPTH": "0",
    }
    with pytest.raises(SettingsError) as info:
        load(environ)
    assert info.value.errors == (
        "SATCHEL_DEBUG: expected bool (1/0, true/false, yes/no, on/off), got 'maybe'",
        "SATCHEL_MAX_BODY_SIZE: expected int >= 1, got 'lots'",
        "SATCHEL_MAX_JSON_DEPTH: expected int >= 1, got '0'",
    )
    assert str(info.value) == "3 settings are invalid:\n" + "\n".join(
        f"  {error}" for error in info.value.errors
    )


def test_settings_error_is_a_value_error_and_pickles() -> None:
    error = SettingsError("SATCHEL_A: bad", "SATCHEL_B: bad")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.errors == error.errors
    assert str(copy) == str(error)


def test_long_values_are_shortened() -> None:
    message = error_of({"SATCHEL_MAX_BODY_SIZE": "x" * 500})
    assert len(message) < 200
    assert message.endswith("...")


# --- secrets -------------------------------------------------------------------------


SECRET = "hunter2-very-secret-value"


@pytest.mark.parametrize("field", ["db_password", "api_token", "signing"])
def test_secret_never_in_error(field: str) -> None:
    class Strict(AppSettings):
        db_password: Annotated[str, msgspec.Meta(min_length=64)] = "x" * 64
        api_token: Annotated[str, msgspec.Meta(min_length=64)] = "x" * 64
        signing: Annotated[str, msgspec.Meta(min_length=64, extra={"secret": True})] = "x" * 64

    variable = f"SATCHEL_{field.upper()}"
    message = error_of({variable: SECRET}, Strict)
    assert SECRET not in message
    assert message.startswith(f"{variable}: expected str with length >= 64, got an invalid")
    override = error_of({}, Strict, **{field: SECRET})
    assert SECRET not in override


def test_secret_key_never_in_error() -> None:
    message = error_of({"SATCHEL_SECRET_KEY": SECRET}, secret_key=123)
    assert message.startswith("secret_key (keyword override): expected str, got an invalid")
    assert "123" not in message


def test_secret_not_in_malformed_env_line(tmp_path: Path) -> None:
    path = write_env(tmp_path, f"SATCHEL_SECRET_KEY='{SECRET}\n")
    with pytest.raises(SettingsError) as info:
        Settings.from_env(environ={}, env_file=path)
    assert SECRET not in str(info.value)


def test_repr_redacts_secrets() -> None:
    settings = AppSettings.from_env(
        environ={
            "SATCHEL_SECRET_KEY": SECRET,
            "SATCHEL_DB_PASSWORD": SECRET,
            "SATCHEL_API_TOKEN": SECRET,
            "SATCHEL_SIGNING": SECRET,
            "SATCHEL_TOKEN_TTL": "30",
        },
        **NO_FILE,
    )
    text = repr(settings)
    assert SECRET not in text
    assert SECRET not in str(settings)
    assert text.startswith(
        "AppSettings(debug=False, secret_key='**********', secret_key_fallbacks=[], "
        "allowed_hosts=['localhost', '127.0.0.1', '[::1]', 'testserver']"
    )
    assert "db_password='**********'" in text
    assert "api_token='**********'" in text
    assert "signing='**********'" in text
    assert "token_ttl=30" in text  # Meta(extra={"secret": False}) opts out
    assert "database_url='sqlite+aiosqlite:///app.db'" in text
    assert dict(settings.__rich_repr__())["secret_key"] != SECRET


def test_repr_shows_unset_secret_and_all_fields() -> None:
    text = repr(Settings())
    assert text == (
        "Settings(debug=False, secret_key='', secret_key_fallbacks=[], "
        "allowed_hosts=['localhost', '127.0.0.1', '[::1]', 'testserver'], "
        "trusted_proxies=[], "
        "max_body_size=2621440, max_upload_size=104857600, max_form_fields=1000, "
        "max_form_files=100, max_part_header_size=16384, max_json_depth=64, "
        "spool_max_size=1048576, access_log=True, redirect_slashes=True, "
        "csrf_trusted_origins=[], hsts_seconds=31536000, hsts_include_subdomains=False, "
        "database_url='**********', database_echo=False, database_pool_size=None, "
        "database_max_overflow=None, database_pool_timeout=None, database_pool_recycle=None, "
        "database_pool_pre_ping=False, mail_backend='smtp', mail_host='localhost', "
        "mail_port=None, mail_username='', mail_password='', mail_use_tls=False, "
        "mail_use_ssl=False, mail_timeout=10.0, mail_default_from='webmaster@localhost', "
        "mail_file_path='sent-mail')"
    )


# --- frozen --------------------------------------------------------------------------


def test_frozen() -> None:
    settings = load({})
    with pytest.raises(AttributeError):
        settings.debug = True  # type: ignore[misc]
    subclassed = AppSettings.from_env(environ={}, **NO_FILE)
    with pytest.raises(AttributeError):
        subclassed.feature_x = True  # type: ignore[misc]


def test_equal_settings_compare_equal() -> None:
    assert load({"SATCHEL_DEBUG": "1"}) == Settings(debug=True)


class Described(Settings):
    even: Annotated[int, msgspec.Meta(ge=0, lt=100, multiple_of=2)] = 0
    code: Annotated[str, msgspec.Meta(min_length=2, max_length=3, pattern="^[a-z]+$")] = "ab"
    labels: Annotated[list[str], msgspec.Meta(max_length=2)] = msgspec.field(default_factory=list)
    either: int | list[int] = 0
    pairs: dict[str, Annotated[int, msgspec.Meta(title="n")]] = msgspec.field(default_factory=dict)


@pytest.mark.parametrize(
    ("variable", "text", "expected"),
    [
        ("SATCHEL_EVEN", "3", "int >= 0, < 100, multiple of 2"),
        ("SATCHEL_CODE", "ABCD", "str with length >= 2, length <= 3, matching '^[a-z]+$'"),
        ("SATCHEL_LABELS", "a,b,c", "list[str] with length <= 2 (JSON array or comma-separated)"),
        ("SATCHEL_EITHER", "x", "int | list[int]"),
        ("SATCHEL_PAIRS", '{"a": "b"}', "dict[str, int] (JSON object)"),
    ],
)
def test_expected_type_descriptions(variable: str, text: str, expected: str) -> None:
    message = error_of({variable: text}, Described)
    assert message.startswith(f"{variable}: expected {expected}, got {text!r}")


def test_union_reads_json_when_it_looks_like_json() -> None:
    cls = Described
    assert cls.from_env(environ={"SATCHEL_EITHER": "[1, 2]"}, **NO_FILE).either == [1, 2]
    assert cls.from_env(environ={"SATCHEL_EITHER": " 7 "}, **NO_FILE).either == 7
    message = error_of({"SATCHEL_EITHER": "[1,"}, cls)
    assert message.startswith("SATCHEL_EITHER: expected int | list[int], got '[1,'")


# mail_default_from: once checked only by satchel.mail at the first send, so a bad one
# failed every message without a sender (a 500) instead of the app's start. The rules
# are satchel.mailaddresses', the same that satchel.mail applies (tests/mail hold them).


@pytest.mark.parametrize(
    "value", ["webmaster@localhost", "Shop <shop@example.com>", '"Doe, Jane" <jane@example.com>']
)
def test_mail_default_from_accepts_one_address(value: str) -> None:
    assert Settings(mail_default_from=value).mail_default_from == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "shop",
        "jane@example.com, eve@example.com",
        "shop@example.com\r\nBcc: eve@evil.example",
        "Shop\u2028 <shop@example.com>",
        "jürgen@example.com",
        "a" * 65 + "@example.com",
    ],
)
def test_mail_default_from_refuses_what_no_message_could_be_sent_from(value: str) -> None:
    with pytest.raises(ValueError, match=r"^mail_default_from"):
        Settings(mail_default_from=value)


def test_a_bad_mail_default_from_is_reported_under_its_variable() -> None:
    message = error_of({"SATCHEL_MAIL_DEFAULT_FROM": "noreply at example.com"})
    assert message == (
        "SATCHEL_MAIL_DEFAULT_FROM: expected one e-mail address, got 'noreply at example.com'"
    )
