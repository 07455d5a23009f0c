"""`bloombridge doctor` checks rate limits, safety categories, word lists and the guard model."""

from __future__ import annotations

from pathlib import Path

from bots.doctor import diagnose
from bots.findings import Finding
from bots.settings import Settings
from tests.bots.cli_process import cli_environment, run_cli
from tests.fakes.tgi import FakeTGI, dead_url


def by_subject(findings: list[Finding]) -> dict[str, Finding]:
    return {finding.subject: finding for finding in findings}


async def test_a_healthy_setup_passes_every_check(tmp_path: Path) -> None:
    (tmp_path / "en.txt").write_text("[obscenity]\nzorblat\n", encoding="utf-8")
    async with FakeTGI() as tgi, FakeTGI() as guard:
        settings = Settings(
            tgi_urls=[tgi.url],
            safety_wordlist_dir=tmp_path,
            safety_guard_url=guard.url,
            safety_block_categories=["hate", "violent_crimes"],
        )
        findings = await diagnose(settings)
    assert all(finding.ok for finding in findings), [f.line() for f in findings]
    lines = "\n".join(finding.line() for finding in findings)
    assert "rate limits: 20/minute per user, 60/minute per chat" in lines
    assert "blocking: hate, violent_crimes" in lines
    assert f"with the lists in {tmp_path}" in lines
    assert f"guard model at {guard.url}: answers" in lines


async def test_every_setting_problem_is_a_failed_line_from_the_real_command(
    tmp_path: Path,
) -> None:
    guard_url = dead_url().replace("http://", "http://guard-user:guard-pa55@")
    async with FakeTGI() as tgi:
        env = cli_environment(
            tgi_urls=tgi.url,
            rate_limit_per_user="often",
            safety_allow_categories="specialized_advice,nonsense",
            safety_wordlist_dir=str(tmp_path / "missing"),
            safety_guard_url=guard_url,
        )
        result = await run_cli("doctor", env=env)
    assert result.returncode == 1, result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 4, result.stdout
    rate, categories, word_lists, guard = failed
    assert "rate limits" in rate and "'often'" in rate
    assert "safety categories" in categories and "nonsense" in categories
    assert "word lists" in word_lists and "missing" in word_lists
    assert "guard model" in guard and "does not answer" in guard
    assert "guard-pa55" not in result.stdout  # the guard URL's credentials are redacted
    assert "Traceback" not in result.stderr


async def test_a_malformed_word_list_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "en.txt").write_text("zorblat\n", encoding="utf-8")
    findings = by_subject(
        await diagnose(Settings(tgi_urls=[dead_url()], safety_wordlist_dir=tmp_path))
    )
    word_lists = findings["word lists"]
    assert not word_lists.ok
    assert "line 1" in word_lists.detail


async def test_guard_settings_the_bot_would_refuse_are_reported() -> None:
    settings = Settings(
        safety_guard_url="http://127.0.0.1:9", safety_guard_api="openai", local_model="x"
    )
    findings = by_subject(await diagnose(settings))
    guard = findings["guard model at http://127.0.0.1:9"]
    assert not guard.ok
    assert "BLOOMBRIDGE_SAFETY_GUARD_MODEL_NAME" in guard.detail
