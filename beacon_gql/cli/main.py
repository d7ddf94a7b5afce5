"""`beacon-gql`: serve, work, migrate, and the researcher's tools (keygen, sign, submit, ...)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import textwrap
import traceback
import typing
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from beacon_gql import __version__
from beacon_gql.cli.failures import EXIT_STATUSES, EXIT_USAGE, explain
from beacon_gql.cli.logs import configure_logging
from beacon_gql.config import ConfigError, Settings, load_settings

if typing.TYPE_CHECKING:
    from beacon_gql.providers.simulator import FaultProfile

DEFAULT_URL = "http://127.0.0.1:8000/graphql"


def _run_until_interrupted(
    work: Coroutine[Any, Any, object], *, cancel_on_sigterm: bool = False
) -> None:
    """Run `work` until it ends or Ctrl-C; with `cancel_on_sigterm`, SIGTERM cancels it too,
    so its clean-up runs (a worker finishes the calls it holds, its classifier process
    stops). A server leaves SIGTERM to uvicorn, which shuts down gracefully itself."""
    from beacon_gql.cli.serving import event_loop_factory

    async def until_terminated() -> None:
        task = asyncio.current_task()
        assert task is not None
        if cancel_on_sigterm:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await work

    with (
        contextlib.suppress(KeyboardInterrupt),
        asyncio.Runner(loop_factory=event_loop_factory()) as runner,
    ):
        runner.run(until_terminated())


def _fail(message: str) -> int:
    print(f"beacon-gql: {message}", file=sys.stderr)
    return EXIT_USAGE


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is outside 1-65535")
    return port


def _shown_database(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url).render_as_string(hide_password=True)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from beacon_gql.cli.serving import listening_socket, serve_on
    from beacon_gql.web.app import create_app

    # Bound first: a taken port is reported before any database file or migration.
    sock = listening_socket(args.host, args.port)
    app = create_app(settings, run_worker=not args.no_worker)

    async def announce() -> None:
        print(
            f"beacon-gql serving on http://{args.host}:{args.port}/graphql "
            f"(database {_shown_database(settings.database_url)}, "
            f"worker {'off' if args.no_worker else 'on'}); Ctrl-C stops it",
            file=sys.stderr,
            flush=True,
        )

    with sock:
        # Progress events are small: compressing each one per subscriber costs more than it
        # saves.
        _run_until_interrupted(
            serve_on(
                sock, app, on_listening=announce, log_level="warning", ws_per_message_deflate=False
            )
        )
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from beacon_gql.services import running_services

    async def run() -> None:
        async with running_services(settings, run_worker=True):
            await asyncio.Event().wait()

    _run_until_interrupted(run(), cancel_on_sigterm=True)
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from beacon_gql.db import migrate
    from beacon_gql.db.engine import create_engine

    async def run() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await migrate.upgrade(engine)
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    print(f"database at revision {asyncio.run(run())}")
    return 0


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from beacon_gql.schema import create_schema

    sdl = create_schema().as_str() + "\n"
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def cmd_keygen(args: argparse.Namespace, settings: Settings) -> int:
    from beacon_gql.jobs.signing import generate_signing_key
    from beacon_gql.jobs.trust import trusted_key_entry

    private_seed, public_key = generate_signing_key()
    key_file = Path(args.output)
    if key_file.exists() and not args.force:
        return _fail(f"{key_file} exists; pass --force to overwrite it")
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(
        json.dumps({"kid": args.kid, "private_key": private_seed, "public_key": public_key}) + "\n",
        encoding="utf-8",
    )
    key_file.chmod(0o600)
    entry = trusted_key_entry(args.kid, public_key)
    print(f"private key written to {key_file} (keep it secret)", file=sys.stderr)
    print("add this entry to the trusted keys file (BEACON_TRUSTED_KEYS_FILE):", file=sys.stderr)
    print(json.dumps(entry, indent=2))
    if args.trust_file:
        trust_path = Path(args.trust_file)
        entries = _read_json(trust_path) if trust_path.exists() else []
        if not isinstance(entries, list):
            raise ConfigError(f"{trust_path} does not hold a JSON list of trusted keys")
        entries.append(entry)
        trust_path.write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")
        print(f"added to {trust_path}", file=sys.stderr)
    return 0


def _read_json(path: str | Path) -> object:
    """A JSON file, or ConfigError naming the file and where it stops being JSON."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"{path}: line {error.lineno}, column {error.colno}: {error.msg.lower()}"
        ) from None


def _load_key(path: str) -> tuple[str, str]:
    """(kid, private key) of a key file made by `beacon-gql keygen`."""
    data = _read_json(path)
    key = data.get("private_key") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(key, str):
        raise ConfigError(f"{path} has no private_key; make one with `beacon-gql keygen`")
    return str(data.get("kid", "?")), key


def _sign(spec_path: str, key_path: str) -> tuple[dict[str, object], str]:
    """The signed spec and the kid of the key that signed it."""
    from beacon_gql.jobs.signing import sign_spec

    spec = _read_json(spec_path)
    if not isinstance(spec, dict):
        raise ConfigError(f"{spec_path} does not hold a JSON object")
    kid, private_key = _load_key(key_path)
    return sign_spec(spec, private_key, now=datetime.now(UTC)), kid


def cmd_sign(args: argparse.Namespace, settings: Settings) -> int:
    signed, kid = _sign(args.spec, args.key)
    text = json.dumps(signed, indent=2, ensure_ascii=False) + "\n"
    metadata = signed.get("metadata")
    timestamp = metadata.get("timestamp") if isinstance(metadata, dict) else None
    where = args.output or "standard output"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    print(
        f"signed {args.spec} with key {kid!r} ({args.key}), timestamp {timestamp}: wrote {where}",
        file=sys.stderr,
    )
    return 0


def cmd_submit(args: argparse.Namespace, settings: Settings) -> int:
    from beacon_gql.cli.client import BeaconClient, ClientError

    spec = _sign(args.spec, args.key)[0] if args.key else _read_json(args.spec)
    client = BeaconClient(args.url, token=_token(args))
    try:
        result = asyncio.run(client.submit(spec, args.idempotency_key))
    except ClientError as error:
        return _fail(str(error))
    job = result["job"]
    note = " (existing job: idempotency key matched)" if result["idempotent"] else ""
    print(
        f"job {job['id']}: {job['status']}, {job['progress']['expected']} executions expected{note}"
    )
    return 0


def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    from beacon_gql.cli.watch import watch

    try:
        return asyncio.run(watch(args.job_id, args.url, token=_token(args)))
    except KeyboardInterrupt:
        return 130


def _token(args: argparse.Namespace) -> str | None:
    # Read here, not as the option's default, so --help never prints the token.
    token: str | None = args.token or os.environ.get("BEACON_READ_TOKEN") or None
    return token


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    from beacon_gql.cli.show_config import config_lines

    print("\n".join(config_lines(settings, os.environ)))
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from beacon_gql.cli.export import export

    output = Path(args.output) if args.output else None
    return asyncio.run(export(args.job_id, args.url, args.format, output, token=_token(args)))


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    from beacon_gql.cli.verify import verify

    return verify(Path(args.export), args.keys)


def cmd_rotate_signing_key(args: argparse.Namespace, settings: Settings) -> int:
    from beacon_gql.receipts.keys import rotate_key_file

    old, new = rotate_key_file(settings.signing_key_file)
    if old is None:
        print(f"receipt signing key {new} created in {settings.signing_key_file or '.beacon'}")
        return 0
    print(
        f"receipt signing key rotated: {old} -> {new}; {old} stays published as retired. "
        "Restart the server and workers to sign with the new key."
    )
    return 0


def _simulated_faults(args: argparse.Namespace) -> FaultProfile | None:
    from beacon_gql.cli.simulation import fault_profile

    if args.latency is None and args.faults is None:
        return None
    return fault_profile(args.latency, args.faults)


def cmd_questions_import(args: argparse.Namespace, settings: Settings) -> int:
    from beacon_gql.cli.questions import import_file
    from beacon_gql.errors import BadUserInput

    try:
        result, total = asyncio.run(import_file(Path(args.file), settings))
    except BadUserInput as error:
        return _fail(f"{args.file}: {error.message}")
    print(
        f"{args.file}: {len(result.added)} added, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged; the catalogue holds {total} questions"
    )
    return 0


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from beacon_gql.providers.simulator import serve_simulators

    _run_until_interrupted(
        serve_simulators(
            seed=args.seed,
            write_providers=Path(args.write_providers),
            host=args.host,
            base_port=args.base_port,
            faults=_simulated_faults(args),
        )
    )
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from beacon_gql.cli.demo import run_demo

    _run_until_interrupted(
        run_demo(
            settings,
            host=args.host,
            port=args.port,
            state=Path(args.state),
            seed=args.seed,
            faults=_simulated_faults(args),
        )
    )
    return 0


def _add_simulation(command: argparse.ArgumentParser) -> None:
    from beacon_gql.cli import simulation

    command.add_argument(
        "--latency",
        type=simulation.latency,
        metavar="MS[:JITTER]",
        help=simulation.LATENCY_HELP + " (default: answers at once)",
    )
    command.add_argument(
        "--faults",
        type=simulation.faults,
        metavar="NAME=RATE,...",
        help=simulation.FAULTS_HELP + " (default: none)",
    )


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows each option's default (unless it has none or its help says it), keeps the
    epilog's lines as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        no_default = action.default is None or action.default is False
        if no_default or action.default == argparse.SUPPRESS or "default" in help_text:
            return help_text
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> typing.NoReturn:
        # One line, like every other refusal of the CLI; the usage is a --help away.
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _epilog() -> str:
    from beacon_gql.config import VARIABLES

    names = ", ".join(variable.name for variable in VARIABLES)
    paragraphs = [
        f"configuration: environment variables (see the README) {names}, and "
        "BEACON_PORT (serve's default port); "
        "`beacon-gql config` prints the values in effect, secrets masked.",
        EXIT_STATUSES,
    ]
    return "\n\n".join(textwrap.fill(paragraph, width=79) for paragraph in paragraphs)


def _add_url_and_token(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--url",
        default=DEFAULT_URL,
        help="the server's GraphQL endpoint; a URL without a path gets /graphql",
    )
    command.add_argument(
        "--token",
        help="the read token, when the server requires one (default: $BEACON_READ_TOKEN)",
    )


def _add_listen(command: argparse.ArgumentParser, *, port_from_env: bool = False) -> None:
    command.add_argument("--host", default="127.0.0.1", help="address to listen on")
    if port_from_env:
        command.add_argument(
            "--port",
            type=_port,
            # A string default goes through _port too: a bad $BEACON_PORT is one line.
            default=os.environ.get("BEACON_PORT") or "8000",
            help="TCP port to listen on, 1-65535 (default: $BEACON_PORT, else 8000)",
        )
    else:
        command.add_argument(
            "--port", type=_port, default=8000, help="TCP port to listen on (1-65535)"
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="beacon-gql", description=__doc__, epilog=_epilog())
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of an error (also: BEACON_LOG_LEVEL=DEBUG)",
    )
    parser.add_argument("--version", action="version", version=f"beacon-gql {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the API (and a worker, unless --no-worker)")
    _add_listen(serve, port_from_env=True)
    serve.add_argument(
        "--no-worker", action="store_true", help="serve the API only; run workers apart"
    )
    serve.set_defaults(handler=cmd_serve)

    commands.add_parser("worker", help="run a worker alone").set_defaults(handler=cmd_worker)
    commands.add_parser("migrate", help="upgrade the database schema").set_defaults(
        handler=cmd_migrate
    )
    commands.add_parser(
        "config", help="print the configuration in effect (BEACON_* variables, secrets masked)"
    ).set_defaults(handler=cmd_config)

    export_schema = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export_schema.add_argument(
        "--output", "-o", default="-", help="file to write (- is standard output)"
    )
    export_schema.set_defaults(handler=cmd_export_schema)

    keygen = commands.add_parser("keygen", help="make an Ed25519 key pair for signing specs")
    keygen.add_argument(
        "--kid",
        default=f"{os.environ.get('USER', 'researcher')}-key",
        help="the key's name in the trusted-keys file",
    )
    keygen.add_argument(
        "--output", "-o", default="beacon-key.json", help="file for the key pair (kept 0600)"
    )
    keygen.add_argument("--trust-file", help="also append the entry to this trusted-keys file")
    keygen.add_argument("--force", action="store_true", help="overwrite an existing key file")
    keygen.set_defaults(handler=cmd_keygen)

    sign = commands.add_parser("sign", help="add nonce and timestamp and sign, as the portal does")
    sign.add_argument("spec", help="the job spec, a JSON file")
    sign.add_argument("--key", default="beacon-key.json", help="key file made by keygen")
    sign.add_argument(
        "--output", "-o", help="write the signed spec here (default: standard output)"
    )
    sign.set_defaults(handler=cmd_sign)

    submit = commands.add_parser("submit", help="send a spec with submitBiasJob")
    submit.add_argument("spec", help="the job spec, a JSON file (signed unless --key is given)")
    submit.add_argument("--key", help="sign with this key file first")
    _add_url_and_token(submit)
    submit.add_argument("--idempotency-key", help="a retry with the same key returns the same job")
    submit.set_defaults(handler=cmd_submit)

    watch = commands.add_parser(
        "watch",
        help="follow a job's progress live until it ends "
        "(exit 0 COMPLETED, 1 PARTIAL/FAILED/CANCELLED, 2 error)",
    )
    watch.add_argument("job_id", metavar="JOB_ID", help="the job's id, as submit printed it")
    _add_url_and_token(watch)
    watch.set_defaults(handler=cmd_watch)

    export = commands.add_parser("export", help="write a job's executions and analysis")
    export.add_argument("job_id", metavar="JOB_ID", help="the job's id")
    export.add_argument("--format", choices=["json", "csv"], required=True, help="file format")
    export.add_argument(
        "--output",
        "-o",
        help="write here (CSV: also FILE.analysis.json; default: standard output)",
    )
    _add_url_and_token(export)
    export.set_defaults(handler=cmd_export)

    verify = commands.add_parser(
        "verify", help="check a JSON export's signed receipts and root, offline"
    )
    verify.add_argument(
        "export",
        metavar="EXPORT.json",
        help="a job exported with `beacon-gql export --format json`",
    )
    verify.add_argument(
        "--keys",
        metavar="URL|FILE",
        help="the server's published keys (/.well-known/beacon-keys.json, or a saved copy); "
        "default: the copy inside the export",
    )
    verify.set_defaults(handler=cmd_verify)

    commands.add_parser(
        "rotate-signing-key",
        help="new receipt signing key; the old one stays published (BEACON_SIGNING_KEY_FILE)",
    ).set_defaults(handler=cmd_rotate_signing_key)

    questions = commands.add_parser("questions", help="the question catalogue")
    question_commands = questions.add_subparsers(dest="questions_command", required=True)
    import_questions = question_commands.add_parser(
        "import",
        help="add questions from JSON Lines or CSV (id, text, category, language, "
        "translation_of), all or none, to the database of BEACON_DATABASE_URL",
    )
    import_questions.add_argument("file", help="a .jsonl or .csv file")
    import_questions.set_defaults(handler=cmd_questions_import)

    simulate = commands.add_parser("simulate", help="serve SIMULATED regional providers")
    simulate.add_argument("--seed", type=int, default=0, help="seed of the canned answers")
    simulate.add_argument(
        "--write-providers",
        required=True,
        metavar="PATH",
        help="write the providers file (TOML) for BEACON_PROVIDERS_FILE here",
    )
    simulate.add_argument("--host", default="127.0.0.1", help="address to listen on")
    simulate.add_argument(
        "--base-port",
        type=_port,
        default=None,
        help="first of the simulators' ports (default: free ports the system picks)",
    )
    _add_simulation(simulate)
    simulate.set_defaults(handler=cmd_simulate)

    demo = commands.add_parser(
        "demo", help="server + SIMULATED providers + an example job, on the embedded default"
    )
    _add_listen(demo)
    demo.add_argument("--state", default=".beacon", help="folder for the demo's files")
    demo.add_argument("--seed", type=int, default=0, help="seed of the canned answers")
    _add_simulation(demo)
    demo.set_defaults(handler=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = args.debug or os.environ.get("BEACON_LOG_LEVEL", "").strip().upper() == "DEBUG"
    settings: Settings | None = None
    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
        return int(args.handler(args, settings))
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if debug:
            traceback.print_exception(error)
        failure = explain(error, settings)
        print(f"beacon-gql: {failure.message}", file=sys.stderr)
        return failure.exit_status


if __name__ == "__main__":
    sys.exit(main())
