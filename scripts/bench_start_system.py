"""Benchmark start-system: cold import time and warm handler latency against moto. Prints figures.

Not a test: timings depend on the machine. Targets (issue #2, on the 2-core dev machine):
cold import <= 300 ms, warm p50 <= 50 ms.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "tests")]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)
COLD_RUNS = 7
WARM_RUNS = 200
TARGET_COLD_MS = 300
TARGET_WARM_P50_MS = 50

COLD_SNIPPET = """
import time, sys
t = time.perf_counter()
import start_system.handler
print((time.perf_counter() - t) * 1000)
"""


LAMBDA_SITE = ROOT / ".aws-sam" / "bench-lambda-site"


def lambda_like_site() -> Path:
    """A site with only what Lambda has: the runtime's boto3 plus functions/requirements.txt.

    The dev venv also holds awscrt, pyOpenSSL and moto's extras, which `import boto3` picks up and the Lambda
    runtime does not have; timing imports there overstates a real cold start.
    """
    stamp = LAMBDA_SITE / ".stamp"
    requirements = (ROOT / "functions" / "requirements.txt").read_text()
    if not stamp.exists() or stamp.read_text() != requirements:
        import boto3

        subprocess.run(  # noqa: S603 - pip from our own interpreter
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--upgrade",
                "--target",
                str(LAMBDA_SITE),
                f"boto3=={boto3.__version__}",
                "-r",
                str(ROOT / "functions" / "requirements.txt"),
            ],
            check=True,
        )
        stamp.write_text(requirements)
    return LAMBDA_SITE


def cold_import_ms(env: dict[str, str], site: Path | None) -> list[float]:
    """Import the handler in a fresh interpreter, as a Lambda cold start does (init phase)."""
    path = os.pathsep.join([str(ROOT / "functions"), *([str(site)] if site else [])])
    # -S: no site-packages, so only the Lambda-like site is importable (when given).
    command = [sys.executable, *(["-S"] if site else []), "-c", COLD_SNIPPET]
    runs = []
    for _ in range(COLD_RUNS):
        out = subprocess.run(  # noqa: S603 - our own interpreter and snippet
            command,
            env={**os.environ, **env, "PYTHONPATH": path},
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return runs


def percentile(samples: list[float], pct: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(pct) - 1]


def main() -> int:
    from moto import mock_aws

    from support.deployed import LambdaContext, deploy, event, load_handler, template_env

    class Env:  # minimal monkeypatch stand-in for load_handler
        def setenv(self, key: str, value: str) -> None:
            os.environ[key] = value

    with mock_aws():
        deployed = deploy("eu-west-1")
        env = template_env("StartSystemFunction", deployed, function_region="us-east-1")
        cold = cold_import_ms(env, lambda_like_site())
        cold_dev = cold_import_ms(env, None)
        handler = load_handler("start_system", env, Env())
        import boto3

        asg = boto3.client("autoscaling", region_name="eu-west-1")
        knock, bot = event("start-system/player_query_a.json"), event("start-system/bot_lookalike_names.json")
        paths: dict[str, list[float]] = {
            "start (stopped -> desired 1)": [],
            "already running": [],
            "ignored bot": [],
        }
        devnull = open(os.devnull, "w")  # noqa: SIM115 - keep handler logs out of the figures
        real_stdout, sys.stdout = sys.stdout, devnull
        try:
            for _ in range(WARM_RUNS):
                asg.set_desired_capacity(AutoScalingGroupName=deployed.asg_name, DesiredCapacity=0)
                for name, payload in (
                    ("start (stopped -> desired 1)", knock),
                    ("already running", knock),
                    ("ignored bot", bot),
                ):
                    t = time.perf_counter()
                    handler.lambda_handler(payload, LambdaContext())
                    paths[name].append((time.perf_counter() - t) * 1000)
        finally:
            sys.stdout = real_stdout
            devnull.close()

    cold_median = statistics.median(cold)
    print(f"start-system benchmark ({COLD_RUNS} cold imports, {WARM_RUNS} warm invocations per path, moto)")
    print(
        f"  cold import (Lambda-like site) median {cold_median:7.1f} ms  min {min(cold):7.1f}  max {max(cold):7.1f}"
        f"   target <= {TARGET_COLD_MS} ms: {'met' if cold_median <= TARGET_COLD_MS else 'MISSED'}"
    )
    print(f"  cold import (dev venv, for reference) median {statistics.median(cold_dev):7.1f} ms")
    figures: dict[str, object] = {
        "cold_import_ms": {"median": round(cold_median, 1), "runs": [round(c, 1) for c in cold]},
        "cold_import_dev_venv_ms": round(statistics.median(cold_dev), 1),
    }
    for name, samples in paths.items():
        p50, p95 = percentile(samples, 50), percentile(samples, 95)
        verdict = "met" if p50 <= TARGET_WARM_P50_MS else "MISSED"
        print(
            f"  warm {name:<28} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms   target p50 <= {TARGET_WARM_P50_MS} ms: {verdict}"
        )
        figures[name] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
