"""The CI recipes work from another repository: each recipe's shell steps run
from a scratch directory standing in for a user's repository (with its own
ci/ folder and broker start script), fetch the suite at a pinned tag from a
local clone of this repository (no network), build it, start the "user's"
broker, certify broker and client, and leave the reports, with the started
broker's log, where the recipe uploads them."""
import os
import re
import socket
import subprocess

import pytest
import yaml

from harness_support import REPO

TAG = "v0.1.0"  # the pinned tag the recipes name
PLACEHOLDER = "https://example.invalid/mbws-conformance.git"


@pytest.fixture(scope="module")
def suite_origin(tmp_path_factory):
    """A clone of this repository with the recipes' pinned tag: the 'upstream'."""
    origin = tmp_path_factory.mktemp("origin") / "mbws-conformance.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(REPO), str(origin)], check=True)
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    subprocess.run(["git", "-C", str(origin), "tag", "-f", TAG, head], check=True,
                   capture_output=True)
    return origin


def user_repo(tmp_path):
    """A user's repository: its own ci/ folder with a start script for 'its' broker
    (the suite's reference broker stands in for the user's implementation)."""
    repo = tmp_path / "user-repo"
    (repo / "ci").mkdir(parents=True)
    (repo / "ci" / "certify.sh").write_text("#!/bin/sh\necho 'the user's own ci/certify.sh must not run'; exit 99\n")
    start = repo / "ci" / "start-broker.sh"
    start.write_text("#!/bin/sh\nexec .mbws-suite/build/peer/mbws-peer broker --listen \"127.0.0.1:$1\"\n")
    for f in (start, repo / "ci" / "certify.sh"):
        f.chmod(0o755)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    overrides = {"MBWS_BROKER_URL": f"ws://127.0.0.1:{port}/",
                 "MBWS_START_CMD": f"ci/start-broker.sh {port}",
                 "MBWS_CLIENT_CMD": ".mbws-suite/build/peer/mbws-peer echo",
                 "MBWS_TARGET_NAME": "user-impl",
                 "MBWS_SUITE_ARGS": "--section flow"}
    return repo, overrides


def run_script(repo, script, env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("MBWS_")}
    full.update(env)
    return subprocess.run(["bash", "-e", "-c", script], cwd=str(repo), env=full,
                          capture_output=True, text=True, timeout=900)


def check_uploaded(repo, upload_dir, proc):
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    up = repo / upload_dir
    for f in ("index.html", "results.json", "junit.xml", "badge.svg", "broker-under-test.log"):
        assert (up / f).is_file(), f"{f} not in {upload_dir}: {os.listdir(up) if up.exists() else 'missing'}"
    import json
    doc = json.loads((up / "results.json").read_text())
    roles = {r["role"] for r in doc["results"]}
    assert roles == {"broker", "client"}, roles
    assert doc["summary"]["fail"] == 0 and doc["summary"]["pass"] > 0
    assert doc["targets"][0]["name"] == "user-impl"
    assert (repo / ".mbws-suite" / "ci" / "certify.sh").exists()


def test_github_actions_recipe_from_a_user_repository(tmp_path, suite_origin):
    doc = yaml.safe_load((REPO / "ci" / "github-actions.yml").read_text())
    job = doc["jobs"]["certify"]
    env = {k: str(v) for k, v in job["env"].items()}
    assert env["MBWS_SUITE_REF"] == TAG and env["MBWS_SUITE_DIR"] == ".mbws-suite"
    steps = job["steps"]
    cache = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache"))
    assert cache["with"]["path"].endswith("/build") and "MBWS_SUITE_REF" in cache["with"]["key"]
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    repo, overrides = user_repo(tmp_path)
    env.update(overrides, MBWS_SUITE_REPO=str(suite_origin))

    def expand(text):  # the ${{ ... }} expressions the recipe uses
        text = re.sub(r"\$\{\{\s*env\.(\w+)\s*\}\}", lambda m: env[m.group(1)], text)
        text = text.replace("${{ github.run_id }}", "4242").replace("${{ github.run_attempt }}", "1")
        assert "${{" not in text, text
        return text

    env = {k: expand(v) for k, v in env.items()}
    script = "\n".join(expand(s["run"]) for s in steps if "run" in s)
    proc = run_script(repo, script, env)
    check_uploaded(repo, expand(upload["with"]["path"]), proc)


def test_gitlab_recipe_from_a_user_repository(tmp_path, suite_origin):
    job = yaml.safe_load((REPO / "ci" / "gitlab-ci.yml").read_text())["mbws-certify"]
    env = {k: str(v) for k, v in job["variables"].items()}
    assert env["MBWS_SUITE_REF"] == TAG
    assert any(".mbws-suite/build" in p for p in job["cache"]["paths"])
    assert "MBWS_SUITE_REF" in job["cache"]["key"]
    assert job["artifacts"]["when"] == "always"
    repo, overrides = user_repo(tmp_path)
    predefined = {"CI_PIPELINE_ID": "77", "CI_JOB_ID": "5"}
    env.update(overrides, MBWS_SUITE_REPO=str(suite_origin))
    env = {k: os.path.expandvars(v) if "$CI_" in v else v for k, v in dict(env, **predefined).items()}
    env = {k: v.replace("$CI_PIPELINE_ID", "77").replace("$CI_JOB_ID", "5") for k, v in env.items()}
    script = "\n".join(job["before_script"] + job["script"])
    proc = run_script(repo, script, env)
    upload = job["artifacts"]["paths"][0].replace("$MBWS_RUN_ID", env["MBWS_RUN_ID"])
    assert env["MBWS_RUN_ID"] == "gitlab-77-5"
    check_uploaded(repo, upload, proc)
    junit = job["artifacts"]["reports"]["junit"].replace("$MBWS_RUN_ID", env["MBWS_RUN_ID"])
    assert (repo / junit).is_file()


def test_pinned_tag_is_the_project_version():
    """Release tags are v + CMakeLists.txt's project VERSION (ci/README.md)."""
    cmake = (REPO / "CMakeLists.txt").read_text()
    version = re.search(r"project\(mbws-conformance VERSION ([0-9.]+)", cmake).group(1)
    assert TAG == "v" + version


def placeholder_fetch_steps():
    gha = yaml.safe_load((REPO / "ci" / "github-actions.yml").read_text())["jobs"]["certify"]
    gl = yaml.safe_load((REPO / "ci" / "gitlab-ci.yml").read_text())["mbws-certify"]
    fetch = next(s["run"] for s in gha["steps"] if "git clone" in s.get("run", ""))
    return [("github", gha["env"]["MBWS_SUITE_REPO"], fetch),
            ("gitlab", gl["variables"]["MBWS_SUITE_REPO"], "\n".join(gl["before_script"]))]


@pytest.mark.parametrize("name,repo_url,script", placeholder_fetch_steps(),
                         ids=lambda v: v if v in ("github", "gitlab") else "")
def test_the_placeholder_url_stops_the_job_with_a_clear_message(tmp_path, name, repo_url, script):
    """The suite has no public home yet: a recipe copied unedited stops at
    once, naming the variable to set, before any clone or install."""
    assert repo_url == PLACEHOLDER
    env = {"MBWS_SUITE_REPO": repo_url, "MBWS_SUITE_REF": TAG, "MBWS_SUITE_DIR": ".mbws-suite"}
    proc = run_script(tmp_path, script, env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "MBWS_SUITE_REPO is still the placeholder" in proc.stdout + proc.stderr
    assert not (tmp_path / ".mbws-suite").exists()
