"""The deployment kit in deploy/ against the code it runs: the compose file's issuer commands and the
systemd units' ExecStart lines parse with the real command line, the Caddyfile proxies to the ports
those commands listen on, the proxy the issuers trust is the one in front of them, and no secret is
written into a unit, an environment file or the compose file. (No container engine runs here: the
files are read, not started.)"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest
import yaml

from issuer.cli import parser
from issuer.config import check_store_url

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
ISSUERS = ("issuer-1", "issuer-2")
ENVIRONMENT = {"ISSUER_HOST": "issuer.example.org", "DESK_HOST": "desk.example.org"}
SECRET_VARIABLE = re.compile(r"\b[A-Z_]*(PASSWORD|PASSPHRASE)\b\s*[=:]")  # FRONTDESK_STORE_PASSWORD=..., not ..._FILE
URL_WITH_PASSWORD = re.compile(r"postgres(ql)?://[^@/\s:]*:[^@/\s]*@")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def interpolated(argument: str, environment: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:?message}` and `${NAME:-default}`, as `docker compose` fills them in."""

    def value(match: re.Match[str]) -> str:
        name, _, rest = match.group(1).partition(":")
        if name in environment:
            return environment[name]
        assert rest.startswith("-"), f"{name} is required but not set"
        return rest[1:]

    return re.sub(r"\$\{([^}]+)\}", value, argument)


def serve_arguments(command: list[str]) -> Namespace:
    args = parser().parse_args(command)  # SystemExit on an option `serve` does not have
    assert args.command == "serve"
    return args


def test_compose_runs_a_database_two_issuers_and_caddy() -> None:
    services = compose()["services"]
    assert set(services) == {"db", *ISSUERS, "caddy"}
    assert services["db"]["image"].startswith("docker.io/library/postgres:")
    assert services["caddy"]["image"].startswith("docker.io/library/caddy:")
    for name in ISSUERS:
        issuer = services[name]
        assert issuer["depends_on"]["db"]["condition"] == "service_healthy"
        context = (DEPLOY / issuer["build"]["context"]).resolve()  # relative to the compose file
        assert context == DEPLOY.parent and (context / issuer["build"]["dockerfile"]).is_file()
    assert services["issuer-1"]["volumes"] != services["issuer-2"]["volumes"]  # a data folder each


def test_the_issuer_commands_are_real_serve_commands_on_one_store() -> None:
    document = compose()
    services = document["services"]
    commands = {name: [interpolated(a, ENVIRONMENT) for a in services[name]["command"]] for name in ISSUERS}
    parsed = {name: serve_arguments(command) for name, command in commands.items()}
    one, other = parsed.values()
    assert one.public_url == other.public_url == "https://issuer.example.org"
    assert one.store_url == other.store_url
    check_store_url(one.store_url)  # a postgresql:// URL without a password
    assert re.fullmatch(r"postgresql://frontdesk@db:\d+/frontdesk", one.store_url)
    for name, args in parsed.items():
        assert args.host == "0.0.0.0" and args.data_dir == Path("/data")
        secrets = set(services[name]["secrets"])
        for path in (Path(args.store_password_file), Path(args.key_passphrase_file)):
            assert path.parent == Path("/run/secrets") and path.name in secrets
    for secret in document["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    database = services["db"]["environment"]
    assert database["POSTGRES_PASSWORD_FILE"] == f"/run/secrets/{Path(one.store_password_file).name}"
    assert database["POSTGRES_USER"] == "frontdesk" and database["POSTGRES_DB"] == "frontdesk"


def test_compose_without_the_host_names_does_not_start() -> None:
    command = compose()["services"]["issuer-1"]["command"]
    with pytest.raises(AssertionError, match="ISSUER_HOST is required"):
        [interpolated(argument, {}) for argument in command]


def caddy_sites() -> dict[str, list[list[str]]]:
    """The Caddyfile's sites by address, each a list of its directive lines (as tokens)."""
    sites: dict[str, list[list[str]]] = {}
    site: list[list[str]] | None = None
    depth = 0
    for raw in (DEPLOY / "Caddyfile").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        tokens = shlex.split(line)
        if depth == 0 and tokens[-1] == "{":
            site = sites.setdefault(tokens[0], [])
        elif site is not None:
            site.append(tokens)
        depth += line.count("{") - line.count("}")
    assert depth == 0, "unbalanced braces in the Caddyfile"
    return sites


def upstreams(site: list[list[str]]) -> list[str]:
    [proxy] = [tokens for tokens in site if tokens[0] == "reverse_proxy"]
    return [token for token in proxy[1:] if token != "{"]


def test_caddy_proxies_wallets_and_desks_to_the_ports_the_issuers_listen_on() -> None:
    services = compose()["services"]
    parsed = {
        name: serve_arguments([interpolated(a, ENVIRONMENT) for a in services[name]["command"]]) for name in ISSUERS
    }
    sites = caddy_sites()
    assert set(sites) == {"{$ISSUER_HOST}", "{$DESK_HOST}"}
    assert upstreams(sites["{$ISSUER_HOST}"]) == [f"{name}:{args.port}" for name, args in parsed.items()]
    assert upstreams(sites["{$DESK_HOST}"]) == [f"{name}:{args.admin_port}" for name, args in parsed.items()]
    assert all(args.port != args.admin_port for args in parsed.values())  # the admin API never on the wallet port
    wallet_site = sites["{$ISSUER_HOST}"]
    assert ["health_uri", "/.well-known/openid-credential-issuer"] in wallet_site
    assert ["Host", "{$ISSUER_HOST}"] in wallet_site  # the issuers answer their public name only
    desk_site = sites["{$DESK_HOST}"]
    assert ["flush_interval", "-1"] in desk_site  # Server-Sent Events pass at once
    assert ["@outside", "not", "remote_ip", "{$DESK_NETWORKS}"] in desk_site
    assert ["respond", "@outside", "Not a desk network", "403"] in desk_site
    caddy = services["caddy"]
    assert caddy["volumes"][0] == "./Caddyfile:/etc/caddy/Caddyfile:ro"
    assert {"ISSUER_HOST", "DESK_HOST", "DESK_NETWORKS"} <= set(caddy["environment"])
    assert {"80:80", "443:443"} <= set(caddy["ports"])


def test_the_issuers_trust_exactly_the_proxy_in_front_of_them() -> None:
    document = compose()
    caddy_address = document["services"]["caddy"]["networks"]["front"]["ipv4_address"]
    subnet = document["networks"]["front"]["ipam"]["config"][0]["subnet"]
    assert caddy_address.rsplit(".", 1)[0] == subnet.split("/")[0].rsplit(".", 1)[0]
    settings = json.loads((DEPLOY / "issuer-settings.json").read_text())
    assert settings["trusted_proxies"] == [caddy_address]
    assert settings["admin_host"] == "0.0.0.0"  # reached by Caddy over the network, never published
    assert all("ports" not in document["services"][name] for name in (*ISSUERS, "db"))
    assert document["networks"]["store"]["internal"] is True
    containerfile = (DEPLOY / "Containerfile").read_text()
    assert "COPY deploy/issuer-settings.json /etc/frontdesk/issuer-settings.json" in containerfile
    assert "/etc/frontdesk/issuer-settings.json" in (DEPLOY / "entrypoint.sh").read_text()
    assert 'exec frontdesk-issuer "$@"' in (DEPLOY / "entrypoint.sh").read_text()


def unit(path: Path) -> dict[str, list[str]]:
    """A systemd unit's settings, each key with all its values (a key may repeat)."""
    values: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def environment_file(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def exec_start(settings: dict[str, list[str]], instance: str) -> list[str]:
    """ExecStart as systemd runs it: %i the instance, %d the credentials folder, ${NAME} from the
    environment file."""
    [command] = settings["ExecStart"]
    environment_path = settings["EnvironmentFile"][0].replace("%i", instance)
    environment = environment_file(DEPLOY / "systemd" / Path(environment_path).name)  # the kit's samples
    command = command.replace("%i", instance).replace("%d", "/run/credentials/unit")
    command = re.sub(r"\$\{(\w+)\}", lambda match: environment[match.group(1)], command)
    return shlex.split(command)


def credentials(settings: dict[str, list[str]]) -> dict[str, str]:
    return dict(value.split(":", 1) for value in settings.get("LoadCredential", []))


def test_the_systemd_instances_run_real_serve_commands_with_their_secrets_as_credentials() -> None:
    settings = unit(DEPLOY / "systemd" / "frontdesk-issuer@.service")
    parsed = {}
    for instance in ("1", "2"):
        argv = exec_start(settings, instance)
        assert argv[0] == "/opt/frontdesk/.venv/bin/frontdesk-issuer"
        parsed[instance] = args = serve_arguments(argv[1:])
        assert args.data_dir == Path(f"/var/lib/frontdesk/{instance}") and args.host == "127.0.0.1"
        check_store_url(args.store_url)
        loaded = credentials(settings)
        assert Path(args.store_password_file) == Path("/run/credentials/unit/store-password")
        assert Path(args.key_passphrase_file) == Path("/run/credentials/unit/key-passphrase")
        assert {"store-password", "key-passphrase"} <= set(loaded)
    one, other = parsed.values()
    assert one.public_url == other.public_url and one.store_url == other.store_url
    ports = [one.port, one.admin_port, other.port, other.admin_port]
    assert len(set(ports)) == 4  # two instances on one host
    assert settings["StateDirectory"] == ["frontdesk/%i"] and settings["UMask"] == ["0077"]
    assert settings["KillSignal"] == ["SIGTERM"]  # serve stops cleanly on it


def test_the_migrate_unit_runs_a_real_migrate_command() -> None:
    settings = unit(DEPLOY / "systemd" / "frontdesk-migrate.service")
    argv = exec_start(settings, "1")
    args = parser().parse_args(argv[1:])
    assert args.command == "migrate" and args.data_dir is None
    check_store_url(args.store_url)
    assert Path(args.store_password_file) == Path("/run/credentials/unit/store-password")
    assert "frontdesk-migrate.service" in unit(DEPLOY / "systemd" / "frontdesk-issuer@.service")["After"][0]


def test_no_secret_is_written_into_the_kit() -> None:
    files = [path for path in DEPLOY.rglob("*") if path.is_file()]
    assert len(files) >= 8
    for path in files:
        for line in path.read_text().splitlines():
            if line.lstrip().startswith("#"):
                continue
            assert not SECRET_VARIABLE.search(line), f"{path.name}: {line}"
            assert not URL_WITH_PASSWORD.search(line), f"{path.name}: {line}"
    for path in (DEPLOY / "systemd").glob("*.service"):
        assert not unit(path).get("Environment"), f"{path.name} sets variables in the unit"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    executable = shutil.which("frontdesk-issuer") or str(
        Path(__file__).resolve().parent.parent / ".venv/bin/frontdesk-issuer"
    )
    for path in (DEPLOY / "systemd").glob("*.service"):
        text = path.read_text().replace("/opt/frontdesk/.venv/bin/frontdesk-issuer", executable)
        name = path.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(text)
    names = sorted(str(path) for path in tmp_path.glob("*.service"))
    result = subprocess.run(
        ["systemd-analyze", "verify", *names], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_containerfile_copies_what_the_repository_has() -> None:
    copies = [
        line.split()[1:-1] for line in (DEPLOY / "Containerfile").read_text().splitlines() if line.startswith("COPY ")
    ]
    sources = [source for sources in copies for source in sources]
    assert {"pyproject.toml", "issuer", "resources", "deploy/entrypoint.sh"} <= set(sources)
    for source in sources:
        assert (DEPLOY.parent / source).exists(), source
    assert (DEPLOY / "entrypoint.sh").stat().st_mode & 0o111  # executable in the image
