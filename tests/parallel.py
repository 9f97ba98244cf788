"""Running the suite on several pytest-xdist workers (``make test``: ``-n 2``).

Each worker has its own databases (tests/databases.py), ports (tests/liveserver.py) and
temporary folders (pytest's). Tests that share expensive set-up run on one worker, which makes
it once: those that drive the browser (the session's Chromium and live server), and all the
tests of a module that has a module-scoped fixture (a served instance, say). The slow ones
are handed out first, so that no worker starts a long test while the other has finished.

xdist's own ``--dist loadgroup`` puts its group in the test's id, which this pytest no longer
takes; so each worker writes its plan (test id → unit of work) to a folder the controller
named, and the controller's scheduler reads it once every worker has collected."""

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

PLANS = "HUQUQ_TEST_PLANS"  # the folder, set by the controller for its workers


def start(config: pytest.Config) -> None:
    """In the controller of a parallel run: the folder for the workers' plans."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        folder = tempfile.mkdtemp(prefix="huquq-plans-")
        os.environ[PLANS] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


def _unit(item: pytest.Item, shared_by_module: set[str]) -> str:
    if "browser" in item.fixturenames:
        return "browser"
    module = item.nodeid.split("::")[0]
    return module if module in shared_by_module else item.nodeid


def plan(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a worker: the units of work, slow units first, and the plan written for the
    controller. (Without workers, nothing changes.)"""
    worker = getattr(config, "workerinput", {}).get("workerid")
    if worker is None or PLANS not in os.environ:
        return
    shared_by_module = {
        item.nodeid.split("::")[0]
        for item in items
        if any(
            definitions[-1].scope == "module"
            for definitions in item._fixtureinfo.name2fixturedefs.values()
        )
    }
    units = {item.nodeid: _unit(item, shared_by_module) for item in items}
    slow = {
        units[item.nodeid]
        for item in items
        if item.get_closest_marker("slow") or item.get_closest_marker("browser")
    }
    items.sort(key=lambda item: units[item.nodeid] not in slow)  # stable: otherwise as collected
    path = Path(os.environ[PLANS]) / f"{worker}.json"
    path.with_suffix(".tmp").write_text(json.dumps(units))
    path.with_suffix(".tmp").rename(path)


def scheduler(config: pytest.Config, log):
    """xdist's scope scheduling, with the workers' units as scopes, in the order collected."""
    from xdist.scheduler import LoadScopeScheduling

    class SharedSetUpScheduling(LoadScopeScheduling):
        units: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.units is None:
                self.units = {}
                for path in Path(os.environ[PLANS]).glob("*.json"):
                    self.units.update(json.loads(path.read_text()))
            return self.units.get(nodeid, nodeid)

    config.option.loadscopereorder = False  # the workers put the slow units first
    return SharedSetUpScheduling(config, log)
