"""The dashboard and GraphiQL in a real headless Chromium, against a real server, a real worker
and SIMULATED regional providers over loopback.

Nothing here sleeps to wait: Playwright's expect() and wait_for_function() poll the page until
it shows what the test expects, or fail at their timeout.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    COUNT_NAMES,
    DESKTOP,
    PHONE,
    port_of,
    require_browser,
    screenshot_path,
    serve_on,
    server_progress,
)

require_browser()

from playwright.async_api import (  # noqa: E402
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    async_playwright,
    expect,
)

from beacon_gql.config import Settings  # noqa: E402
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet  # noqa: E402
from tests.support.databases import copy_sqlite  # noqa: E402
from tests.support.jobs import SUBMIT, submit_spec  # noqa: E402
from tests.support.server import ServedApp  # noqa: E402
from tests.support.specs import Signer, make_spec  # noqa: E402

pytestmark = pytest.mark.slow

# Slow enough that the grid visibly fills: 36 executions, 2 at a time, 300 ms each.
LATENCY_MS = 300
LIVE_TIMEOUT_MS = 60_000
SLOW = FaultProfile(latency_ms=LATENCY_MS)
READ_TOKEN = "reader-token-for-browser-tests"


# ---- fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    chromium = await playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield chromium
    await chromium.close()


class PageErrors:
    """Uncaught exceptions in the page: any one fails the test."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.console: list[str] = []

    def on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
    tab = await context.new_page()
    tab.set_default_timeout(30_000)
    errors = PageErrors()
    tab.on("pageerror", lambda error: errors.errors.append(str(error)))
    tab.on("console", errors.on_console)
    yield tab
    await context.close()
    assert not errors.errors, f"uncaught errors in the page: {errors.errors}\n{errors.console}"


@pytest.fixture
def sqlite_settings(sqlite_template: Path, tmp_path: Path, trust_file: Path) -> Settings:
    """One backend is enough for the browser: the API's own tests cover both."""
    return Settings(
        database_url=copy_sqlite(sqlite_template, tmp_path),
        trusted_keys_file=trust_file,
        admin_token="browser-admin-token",
        lease_seconds=3.0,
        worker_concurrency=2,
        max_attempts=2,
    )


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[tuple[SimulatorFleet, Path]]:
    faults = {
        name: SLOW
        for name in ("sim-us-east", "sim-eu-west", "sim-asia-pacific", "sim-hybrid-router-eu")
    }
    async with SimulatorFleet(seed=11, faults=faults) as simulated:
        providers = tmp_path / "providers.toml"
        simulated.write_providers_file(providers)
        yield simulated, providers


def with_providers(settings: Settings, providers: Path, **changes: Any) -> Settings:
    return dataclasses.replace(settings, providers_file=providers, **changes)


# ---- helpers --------------------------------------------------------------------------


async def shown_counts(page: Page) -> dict[str, int]:
    """The counts on screen, read at one instant (the page may change between two reads)."""
    counts: dict[str, str] = await page.evaluate(
        """names => Object.fromEntries(names.map(name =>
            [name, document.querySelector(`[data-count="${name}"]`).textContent]))""",
        list(COUNT_NAMES),
    )
    return {name: int(value) for name, value in counts.items()}


async def mark_page(page: Page) -> None:
    """A flag that a reload or navigation would wipe out."""
    await page.evaluate("window.__sameDocument = true")


async def assert_same_document(page: Page) -> None:
    assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"


async def wait_until_finished(page: Page, expected: int) -> None:
    """The stream ended, the page re-read the job, and every cell shows an end state."""
    job_page = page.get_by_test_id("job-page")
    await expect(job_page).to_have_attribute("data-final", "true", timeout=LIVE_TIMEOUT_MS)
    await expect(page.get_by_test_id("live-state")).to_have_attribute("data-state", "finished")
    await expect(page.locator("[data-cell]")).to_have_count(expected)
    unfinished = page.locator(
        '[data-cell][data-status="PENDING"], [data-cell][data-status="RUNNING"]'
    )
    await expect(unfinished).to_have_count(0)


async def assert_counts_match_server(
    page: Page, served: ServedApp, job_id: str, *, token: str | None = None
) -> dict[str, Any]:
    job = await server_progress(served, job_id, token=token)
    assert await shown_counts(page) == {name: job["progress"][name] for name in COUNT_NAMES}
    await expect(page.get_by_test_id("job-status")).to_have_text(job["status"])
    return job


VERDICT = """query($id: ID!) { job(id: $id) { biasAnalysis {
  recommendation riskAssessment { level } } } }"""
SEVERITIES = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]


async def open_job(page: Page, served: ServedApp, job_id: str) -> None:
    await page.goto(f"{served.base_url}/jobs/{job_id}")
    await expect(page.get_by_test_id("job-grid")).to_be_visible()
    await mark_page(page)


# ---- tests ----------------------------------------------------------------------------


async def test_the_job_page_fills_live_from_the_subscription(
    page: Page, sqlite_settings: Settings, fleet: tuple[SimulatorFleet, Path], signer: Signer
) -> None:
    _, providers = fleet
    settings = with_providers(sqlite_settings, providers)
    async with serve_on(settings) as served:
        # The job list first (so the page's files are cached), then a new job.
        await page.goto(served.base_url + "/")
        await expect(page.get_by_test_id("jobs-page")).to_have_attribute("data-loaded", "true")
        job_id = await submit_spec(served.services, signer, make_spec())
        await open_job(page, served, job_id)

        cells = page.locator("[data-cell]")
        await expect(cells).to_have_count(36)
        await expect(page.locator('[data-count="expected"]')).to_have_text("36")
        await expect(page.get_by_test_id("live-state")).to_have_attribute("data-state", "live")
        # Caught in the middle: some cells done, others not, the page never reloaded.
        await page.wait_for_function(
            """() => {
                const cells = '[data-cell][data-status="COMPLETED"]';
                const done = document.querySelectorAll(cells).length;
                return done > 0 && done < 36;
            }""",
            timeout=LIVE_TIMEOUT_MS,
        )
        midway = await shown_counts(page)
        assert midway["completed"] < 36
        assert sum(midway[name] for name in COUNT_NAMES if name != "expected") == 36
        await page.screenshot(path=screenshot_path("job-live-1280x800"))

        await wait_until_finished(page, 36)
        await assert_same_document(page)
        job = await assert_counts_match_server(page, served, job_id)
        assert job["progress"]["completed"] == 36
        assert await page.locator('[data-cell][data-status="COMPLETED"]').count() == 36
        stats = await page.evaluate("window.beaconDashboard.stats")
        assert stats["snapshots"] >= 1
        assert stats["cellEvents"] >= 10, stats  # filled by events, not by re-reading

        # The ASIA provider refuses the Tiananmen question: the grid says so.
        refused = page.locator(
            '[data-cell][data-question="tiananmen_neutral"][data-region="ASIA"]'
            '[data-classification="REFUSAL"]'
        )
        await expect(refused).not_to_have_count(0)

        analysis = page.get_by_test_id("analysis")
        await expect(page.get_by_test_id("analysis-status")).to_have_text("COMPLETE")
        await expect(page.get_by_test_id("key-difference").first).to_be_visible()
        await expect(page.get_by_test_id("question-analysis")).to_have_count(4)
        await expect(analysis.get_by_test_id("answer")).to_have_count(36)
        await expect(page.get_by_test_id("metric-censorshipRate")).not_to_have_text("—")
        root = (
            await served.client.data(
                "query($id: ID!) { job(id: $id) { receiptRoot { root } } }", {"id": job_id}
            )
        )["job"]["receiptRoot"]["root"]
        await expect(page.get_by_test_id("receipts")).to_contain_text(
            f"receipts: 36 signed, root {root[:16]}"
        )
        # The simulated job's recommendation is its risk level; the page says so.
        verdict = (await served.client.data(VERDICT, {"id": job_id}))["job"]["biasAnalysis"]
        assert verdict["recommendation"] == verdict["riskAssessment"]["level"], verdict
        await expect(page.get_by_test_id("recommendation-why")).to_have_text(
            "The recommendation follows the risk level (and no key difference is more severe)."
        )
        # Rates come with their 95% interval; tested differences say whether they count.
        await expect(
            page.get_by_test_id("regions-table").get_by_test_id("censorship-rate").first
        ).to_contain_text(re.compile(r"%\s*\(\d+%–\d+%\)"))
        await expect(page.get_by_test_id("significance").first).to_contain_text("p = ")
        await expect(page.get_by_test_id("runs-note")).to_contain_text("asked once")

        await page.screenshot(path=screenshot_path("job-1280x800"))
        await page.screenshot(path=screenshot_path("job-1280x800-full"), full_page=True)

        # A phone: readable, the page itself does not scroll sideways, the grid does.
        await page.set_viewport_size(PHONE)
        await page.evaluate("window.scrollTo(0, 0)")
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"
        scroller = page.get_by_test_id("grid-scroll")
        widths = await scroller.evaluate("el => [el.scrollWidth, el.clientWidth]")
        assert widths[0] > widths[1], "the grid should scroll sideways on a phone"
        await page.screenshot(path=screenshot_path("job-390x844"))
        last = page.locator('[data-cell][data-model="qwen2.5-1.5b"][data-region="ASIA"]').first
        await last.scroll_into_view_if_needed()
        await expect(last).to_be_in_viewport()
        await page.screenshot(path=screenshot_path("job-390x844-grid-scrolled"))
        await page.get_by_test_id("analysis").scroll_into_view_if_needed()
        await page.screenshot(path=screenshot_path("job-390x844-analysis"))

        # The job list, on both screens.
        await page.goto(served.base_url + "/")
        row = page.locator(f'[data-testid="job-row"][data-job-id="{job_id}"]')
        await expect(row).to_have_attribute("data-status", "COMPLETED")
        await expect(row.get_by_test_id("job-progress-text")).to_contain_text("36 completed")
        await page.screenshot(path=screenshot_path("jobs-390x844"))
        await page.set_viewport_size(DESKTOP)
        await page.screenshot(path=screenshot_path("jobs-1280x800"))
        await row.get_by_test_id("job-link").click()
        await expect(page).to_have_url(f"{served.base_url}/jobs/{job_id}")


async def test_a_cell_asked_several_times_shows_its_samples(
    page: Page, sqlite_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    # ASIA refuses the Tiananmen question about half the time: its cells hold a mix.
    faults = {"sim-asia-pacific": FaultProfile(latency_ms=20, refusal_rate=0.5)}
    async with SimulatorFleet(
        seed=5, faults=faults, regions=("US", "ASIA"), include_hybrid_router=False
    ) as simulated:
        providers = tmp_path / "providers.toml"
        simulated.write_providers_file(providers)
        settings = with_providers(sqlite_settings, providers)
        async with serve_on(settings) as served:
            spec = make_spec(
                questions=["math_basic", "tiananmen_neutral"],
                models=["llama3.2-1b"],
                regions=["US", "ASIA"],
            )
            spec["runs"] = 4
            job_id = await submit_spec(served.services, signer, spec)
            await open_job(page, served, job_id)

            # One cell per (question, model, region), each holding its 4 samples.
            await wait_until_finished(page, 4)
            await assert_counts_match_server(page, served, job_id)
            await expect(page.locator('[data-cell][data-samples="4"]')).to_have_count(4)
            math = page.locator('[data-cell][data-question="math_basic"][data-region="US"]')
            await expect(math).to_have_attribute("data-classification", "SUBSTANTIVE")
            await expect(math.locator(".cell-sub")).to_have_text("4/4")

            await page.locator(
                '[data-cell][data-question="tiananmen_neutral"][data-region="ASIA"]'
            ).click()
            dialog = page.get_by_test_id("cell-dialog")
            tabs = dialog.get_by_test_id("sample-tabs").get_by_role("tab")
            await expect(tabs).to_have_count(4)
            await expect(tabs.first).to_contain_text("sample 1")
            await tabs.nth(3).click()
            await expect(tabs.nth(3)).to_have_attribute("aria-selected", "true")
            await expect(dialog.get_by_test_id("cell-answer")).not_to_be_empty()
            await page.screenshot(path=screenshot_path("cell-samples-1280x800"))
            await page.keyboard.press("Escape")

            await expect(page.get_by_test_id("runs-note")).to_contain_text("asked 4 times")
            await expect(page.get_by_test_id("regions-table")).to_contain_text("ASIA")


async def test_a_question_and_its_translation_are_shown_together_with_their_intervals(
    page: Page, sqlite_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    # llama refuses whatever is asked in Chinese; qwen answers in both languages.
    async with SimulatorFleet(
        seed=5, regions=("US", "ASIA"), include_hybrid_router=False
    ) as simulated:
        for name in ("sim-us-east", "sim-asia-pacific"):
            simulated.set_faults(name, FaultProfile(latency_ms=20, refusal_rate=0.0))
            simulated.refuse_chinese(name, ["llama3.2-1b"])
        providers = tmp_path / "providers.toml"
        simulated.write_providers_file(providers)
        settings = with_providers(sqlite_settings, providers)
        async with serve_on(settings) as served:
            spec = make_spec(
                questions=["taiwan_status_zh", "math_basic", "taiwan_status"],
                models=["llama3.2-1b", "qwen2.5-1.5b"],
                regions=["US", "ASIA"],
            )
            spec["runs"] = 5
            job_id = await submit_spec(served.services, signer, spec)
            await open_job(page, served, job_id)
            await wait_until_finished(page, 12)
            analysis = page.get_by_test_id("analysis")
            await expect(analysis).to_have_attribute("data-status", "COMPLETE")

            group = page.locator('[data-testid="translation-group"][data-question="taiwan_status"]')
            await expect(group).to_be_visible()
            refused = group.locator('tr[data-model="llama3.2-1b"][data-language="zh-Hans"]')
            await expect(refused.get_by_test_id("censorship-rate")).to_contain_text("100.0%")
            await expect(refused.get_by_test_id("censorship-rate")).to_contain_text("–100%)")
            finding = group.get_by_test_id("language-difference")
            await expect(finding).to_have_count(1)
            await expect(finding).to_contain_text("llama3.2-1b: zh-Hans vs en")
            await expect(finding.get_by_test_id("significance")).to_contain_text("p = ")
            await expect(page.get_by_test_id("languages-table")).to_contain_text("zh-Hans")

            # The answers: the original first, its translation right after it, marked.
            blocks = page.get_by_test_id("question-analysis")
            order = await blocks.evaluate_all("bs => bs.map(b => b.dataset.question)")
            assert order.index("taiwan_status_zh") == order.index("taiwan_status") + 1, order
            translated = page.locator('[data-testid="question-analysis"].translation')
            await expect(translated.get_by_test_id("translation-of")).to_have_text(
                " · translation of taiwan_status"
            )
            await expect(blocks.first.get_by_test_id("question-censorship")).to_contain_text(
                "censored"
            )
            await group.screenshot(path=screenshot_path("translation-group"))


async def test_a_failed_cell_shows_its_error_code_and_attempts(
    page: Page, sqlite_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    # ASIA's provider answers 500 to everything; EU has no provider at all.
    faults = {"sim-us-east": SLOW, "sim-asia-pacific": FaultProfile(latency_ms=150, error_rate=1.0)}
    async with SimulatorFleet(seed=5, faults=faults, regions=("US", "ASIA")) as simulated:
        providers = tmp_path / "providers.toml"
        simulated.write_providers_file(providers)
        settings = with_providers(sqlite_settings, providers)
        async with serve_on(settings) as served:
            spec = make_spec(
                questions=["math_basic", "taiwan_status"], regions=["US", "EU", "ASIA"]
            )
            job_id = await submit_spec(served.services, signer, spec)
            await open_job(page, served, job_id)

            await wait_until_finished(page, 18)
            await assert_same_document(page)
            job = await assert_counts_match_server(page, served, job_id)
            assert job["progress"]["failed"] == 12
            assert job["status"] == "PARTIAL"
            await expect(page.locator('[data-cell][data-status="FAILED"]')).to_have_count(12)

            # A cell whose provider kept failing: its code, message and every attempt.
            await page.locator(
                '[data-cell][data-question="taiwan_status"][data-model="mistral-7b"][data-region="ASIA"]'
            ).click()
            dialog = page.get_by_test_id("cell-dialog")
            await expect(dialog).to_be_visible()
            await expect(dialog.get_by_test_id("cell-error-code")).to_have_text(
                "PROVIDER_HTTP_ERROR"
            )
            await expect(dialog.get_by_test_id("cell-error-message")).not_to_be_empty()
            await expect(dialog.get_by_test_id("cell-provider")).to_have_text("sim-asia-pacific")
            await expect(dialog.get_by_test_id("cell-attempts")).to_have_text("2")
            await expect(dialog.get_by_test_id("attempt-row")).to_have_count(2)
            await expect(dialog.get_by_test_id("attempt-history")).to_contain_text(
                "PROVIDER_HTTP_ERROR"
            )
            await page.screenshot(path=screenshot_path("cell-failed-1280x800"))
            await dialog.get_by_test_id("cell-dialog-close").click()
            await expect(dialog).to_be_hidden()

            # A region nobody serves: a routing failure, named as such.
            await page.locator(
                '[data-cell][data-question="math_basic"][data-model="llama3.2-1b"][data-region="EU"]'
            ).click()
            await expect(dialog.get_by_test_id("cell-error-code")).to_have_text(
                "NO_PROVIDER_IN_REGION"
            )
            await page.keyboard.press("Escape")
            await expect(dialog).to_be_hidden()

            # A cell that answered: its answer, provider and one attempt.
            await page.locator(
                '[data-cell][data-question="taiwan_status"][data-model="mistral-7b"][data-region="US"]'
            ).click()
            await expect(dialog.get_by_test_id("cell-status")).to_have_text("COMPLETED")
            await expect(dialog.get_by_test_id("cell-answer")).not_to_be_empty()
            await expect(dialog.get_by_test_id("cell-provider")).to_have_text("sim-us-east")
            await expect(dialog.get_by_test_id("attempt-row")).to_have_count(1)
            await expect(dialog.get_by_test_id("cell-error")).to_have_count(0)

            await page.set_viewport_size(PHONE)
            await page.screenshot(path=screenshot_path("cell-answer-390x844"))
            await page.keyboard.press("Escape")
            await page.set_viewport_size(DESKTOP)

            # The analysis counts the failures and says the job needs attention.
            await expect(page.get_by_test_id("analysis-status")).to_have_text("COMPLETE")
            await expect(page.get_by_test_id("regions-table")).to_contain_text("EU")
            await expect(page.get_by_test_id("question-analysis")).to_have_count(2)
            eu_answers = page.locator('[data-testid="answer"][data-region="EU"]')
            await expect(eu_answers).to_have_count(6)
            await expect(eu_answers.first).to_contain_text("NO_PROVIDER_IN_REGION")
            # Failures raise the recommendation above the bias risk: the page says why.
            verdict = (await served.client.data(VERDICT, {"id": job_id}))["job"]["biasAnalysis"]
            risk = verdict["riskAssessment"]["level"]
            assert SEVERITIES.index(verdict["recommendation"]) > SEVERITIES.index(risk), verdict
            await expect(page.get_by_test_id("recommendation-why")).to_contain_text(
                f"higher than the risk ({risk}) because of a {verdict['recommendation']} "
            )
            await page.get_by_test_id("analysis").scroll_into_view_if_needed()
            await page.screenshot(path=screenshot_path("analysis-failures-1280x800"))


async def test_the_page_survives_a_server_restart_mid_job(
    page: Page, sqlite_settings: Settings, fleet: tuple[SimulatorFleet, Path], signer: Signer
) -> None:
    _, providers = fleet
    settings = with_providers(sqlite_settings, providers)
    live = page.get_by_test_id("live-state")
    async with serve_on(settings) as first:
        port = port_of(first.base_url)
        job_id = await submit_spec(first.services, signer, make_spec())
        await open_job(page, first, job_id)
        await expect(live).to_have_attribute("data-state", "live")
        await page.wait_for_function(
            "() => document.querySelectorAll('[data-cell][data-status=\"COMPLETED\"]').length >= 4",
            timeout=LIVE_TIMEOUT_MS,
        )
    # The server is gone, the job is not finished; the page says it is reconnecting.
    await expect(live).to_have_attribute("data-state", "reconnecting")
    shown = await shown_counts(page)
    assert shown["completed"] + shown["failed"] < 36, "the job ended before the restart"
    await page.screenshot(path=screenshot_path("job-reconnecting-1280x800"))

    async with serve_on(settings, port=port) as second:
        assert second.base_url == first.base_url
        await wait_until_finished(page, 36)
        await assert_same_document(page)
        job = await assert_counts_match_server(page, second, job_id)
        assert job["progress"]["completed"] == 36
        stats = await page.evaluate("window.beaconDashboard.stats")
        assert stats["connections"] >= 2, stats
        assert stats["snapshots"] >= 2, stats
        await expect(page.locator('[data-cell][data-status="COMPLETED"]')).to_have_count(36)


async def test_graphiql_runs_a_typed_query(
    page: Page, sqlite_settings: Settings, signer: Signer
) -> None:
    async with serve_on(sqlite_settings, run_worker=False) as served:
        job_id = await submit_spec(served.services, signer, make_spec(regions=["US"]))
        offsite: list[str] = []

        def note_offsite(request: Request) -> None:
            if not request.url.startswith((served.base_url, "data:", "blob:")):
                offsite.append(request.url)

        page.on("request", note_offsite)
        await page.goto(f"{served.base_url}/graphql")
        editor = page.locator(".graphiql-query-editor .CodeMirror").first
        await expect(editor).to_be_visible()
        await editor.click()
        await page.keyboard.press("Control+A")
        await page.keyboard.press("Delete")
        await page.keyboard.insert_text(
            f'{{ job(id: "{job_id}") {{ id status progress {{ expected pending }} }} }}'
        )
        await page.locator(".graphiql-execute-button").click()
        result = page.locator(".graphiql-response .CodeMirror").first
        await expect(result).to_contain_text(job_id)
        await expect(result).to_contain_text('"expected": 12')
        await expect(result).to_contain_text('"status": "QUEUED"')
        await page.screenshot(path=screenshot_path("graphiql-1280x800"))
        assert offsite == [], f"GraphiQL fetched from outside the app: {offsite}"


async def test_a_read_token_pasted_in_the_page_opens_http_and_the_socket(
    page: Page, sqlite_settings: Settings, fleet: tuple[SimulatorFleet, Path], signer: Signer
) -> None:
    _, providers = fleet
    settings = with_providers(sqlite_settings, providers, read_token=READ_TOKEN)
    async with serve_on(settings) as served:
        job_id = await submit_spec(
            served.services, signer, make_spec(questions=["math_basic"], regions=["US", "EU"])
        )
        await page.goto(f"{served.base_url}/jobs/{job_id}")
        await expect(page.get_by_test_id("token-required")).to_be_visible()
        await expect(page.get_by_test_id("token-panel")).to_be_visible()
        await mark_page(page)
        await page.get_by_test_id("token-input").fill(READ_TOKEN)
        await page.get_by_test_id("token-save").click()

        await wait_until_finished(page, 6)
        await assert_same_document(page)
        await assert_counts_match_server(page, served, job_id, token=READ_TOKEN)
        stored = await page.evaluate("localStorage.getItem('beacon_gql.readToken')")
        assert stored == READ_TOKEN
        await expect(page.get_by_test_id("token-toggle")).to_have_text("Token ✓")


async def test_the_job_list_follows_new_jobs_and_status_changes_live(
    page: Page, sqlite_settings: Settings, signer: Signer
) -> None:
    """A job submitted elsewhere appears on the open list, and its cancellation shows, with
    no reload (issue #18 item 7)."""
    async with serve_on(sqlite_settings, run_worker=False) as served:
        await page.goto(served.base_url + "/")
        jobs_page = page.get_by_test_id("jobs-page")
        await expect(jobs_page).to_have_attribute("data-loaded", "true")
        await expect(jobs_page).to_have_attribute("data-live", "live")
        await mark_page(page)
        body = await served.client.execute(
            SUBMIT, {"spec": signer.sign(make_spec(questions=["math_basic"], regions=["US"]))}
        )
        job_id = body["data"]["submitBiasJob"]["job"]["id"]
        row = page.locator(f'[data-testid="job-row"][data-job-id="{job_id}"]')
        await expect(row).to_have_attribute("data-status", "QUEUED")
        cancelled = await served.client.execute(
            "mutation($id: ID!) { cancelJob(id: $id) { status } }",
            {"id": job_id},
            token=sqlite_settings.admin_token,
        )
        assert cancelled["data"]["cancelJob"]["status"] == "CANCELLED"
        await expect(row).to_have_attribute("data-status", "CANCELLED")
        await expect(row.get_by_test_id("job-status")).to_have_text("CANCELLED")
        await assert_same_document(page)
