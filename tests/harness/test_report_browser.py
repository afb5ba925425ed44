"""The HTML report in a real browser: headless Chromium through Selenium 4.

- the smoke report renders without a console error, every figure is loaded
  (complete, a natural width, a visible box), and a full-page screenshot is saved
  (to ``$SPLITBENCH_ARTIFACTS`` when set, for CI to upload);
- an instance named ``<script>alert(1)</script>`` stays text: no alert, no script.

Chromium and its driver are the system's (``/usr/bin/chromium``,
``/usr/bin/chromedriver``), given explicitly so that Selenium never tries to download
a driver. Without them the tests are skipped, unless ``SPLITBENCH_REQUIRE_BROWSER=1``
(CI), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from splitbench.harness import report as report_module
from splitbench.harness.record import Record
from splitbench.harness.runner import run_suite
from splitbench.harness.store import ResultStore
from splitbench.harness.suite import load_suite

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
HOSTILE_NAME = "<script>alert(1)</script>"
WIDTH = 1400
MAX_HEIGHT = 20000


def _missing() -> str | None:
    """Why the browser cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (path.is_file() and os.access(path, os.X_OK)):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    why = _missing()
    if why is not None:
        if os.environ.get("SPLITBENCH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"SPLITBENCH_REQUIRE_BROWSER=1 but {why}", pytrace=False)
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={WIDTH},1000")
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smoke suite's report (the sweep is shared with test_report.py's)."""
    folder = tmp_path_factory.getbasetemp() / "smoke-results"
    if not (folder / "results.parquet").exists():
        run_suite(load_suite("smoke"), folder, jobs=2, resume=True)
    files = report_module.write_report(folder, out=tmp_path_factory.mktemp("browser-report"))
    assert files.html is not None
    return files.html


def _open(driver: Any, path: Path) -> None:
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(path.resolve().as_uri())
    driver.execute_script("return document.readyState")


def _severe(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def test_the_smoke_report_renders_every_figure(
    driver: Any, smoke_report: Path, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(driver, smoke_report)
    figures = len(list((smoke_report.parent / "figures").glob("*.png")))
    assert figures > 0
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete)")
    )
    images = driver.find_elements(By.CSS_SELECTOR, "figure img")
    assert len(images) == figures == len(driver.find_elements(By.TAG_NAME, "img"))
    for img in images:
        state = driver.execute_script(
            "const i = arguments[0], r = i.getBoundingClientRect();"
            "return [i.complete, i.naturalWidth, i.naturalHeight, r.width, r.height];",
            img,
        )
        complete, natural_w, natural_h, width, height = state
        alt = img.get_attribute("alt")
        assert complete and natural_w > 0 and natural_h > 0, alt
        assert width > 0 and height > 0, alt
        assert width <= WIDTH, alt  # max-width: 100 %
    assert not _severe(driver)
    assert driver.find_element(By.TAG_NAME, "h1").text == "splitbench report: smoke"

    height = driver.execute_script("return document.documentElement.scrollHeight")
    chrome = driver.execute_script("return window.outerHeight - window.innerHeight")
    driver.set_window_size(WIDTH, min(int(height) + int(chrome), MAX_HEIGHT))
    artifacts = os.environ.get("SPLITBENCH_ARTIFACTS")
    folder = Path(artifacts) if artifacts else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "report-smoke.png"
    try:
        assert driver.save_screenshot(str(shot))
    finally:
        driver.set_window_size(WIDTH, 1000)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    if artifacts:
        shutil.copy2(smoke_report, folder / "report-smoke.html")


def test_an_instance_named_like_a_script_stays_text(driver: Any, tmp_path: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    folder = tmp_path / "hostile"
    common: dict[str, Any] = {"suite": "hostile", "family": "fam", "instance_id": "i1"}
    with ResultStore(folder) as store:
        store.open(resume=False)
        store.append(
            Record(run_id="a", method="exhaustive", exact=True, status="optimal",
                   feasible=True, objective=1.0, instance_name=HOSTILE_NAME, **common)
        )  # fmt: skip
        store.append(
            Record(run_id="b", method="greedy", termination="error", instance_name=HOSTILE_NAME,
                   reason="<img src=x onerror=alert(2)>", **common)
        )  # fmt: skip
    (folder / "suite.toml").write_text(
        f'description = "{HOSTILE_NAME}"\n[[families]]\nfamily = "tiny"\n', encoding="utf-8"
    )
    files = report_module.write_report(folder, out=tmp_path / "out")
    assert files.html is not None
    _open(driver, files.html)
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 (raises when no alert is open)
    assert driver.execute_script("return document.scripts.length") == 0
    body = driver.find_element(By.TAG_NAME, "body").text
    assert HOSTILE_NAME in body
    assert "<img src=x onerror=alert(2)>" in body
    assert driver.execute_script("return document.querySelectorAll('img[onerror]').length") == 0
