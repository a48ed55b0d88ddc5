"""How a firm listens: who its survey asks, who answers, and the industry study beside it.

Each check has an exact answer from a setting that makes it so (everyone asked answers,
or only promoters do), and would fail if the instrument asked or counted the wrong clients.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import cxsim
from cxsim.config import to_config
from cxsim.model import psychology as psy
from cxsim.presets import config_dir
from cxsim.simulation.engine import Engine
from cxsim.simulation.evaluation import Levers, surveys

SHORT = ["sim=short", "market.size=2000"]


def both(survey: str, *more: str) -> list[str]:
    return [*SHORT, f"firms.sales_first.survey={survey}",
            f"firms.client_first.survey={survey}", *more]


def test_answer_classes_and_response_follow_the_cut_offs():
    answers = np.array([0, 6, 7, 8, 9, 10])
    assert psy.answer_class(answers).tolist() == [0, 0, 1, 1, 2, 2]
    response = np.tile([0.2, 0.5, 0.9], (6, 1))
    u = np.full(6, 0.4)
    assert psy.responds(answers, u, response).tolist() == [False, False, True, True, True,
                                                           True]


def test_a_transactional_survey_asks_only_buyers_and_a_finished_walks_one_walk_aways_too():
    walks = cxsim.run(cxsim.compose(both("finished_walks"))).timeseries
    buyers = cxsim.run(cxsim.compose(both("transactional"))).timeseries
    assert (buyers.survey_invited <= buyers.purchases).all()
    assert walks.survey_invited.sum() > walks.purchases.sum() * 0.2  # ~listening's share
    assert (walks.survey_invited > buyers.survey_invited).any()
    assert (walks.response_rate.dropna() == 1.0).all()
    assert 0.1 < buyers.nps_surveyed.sum() / buyers.survey_invited.sum() < 0.3


def test_who_answers_decides_what_the_firm_measures():
    only_promoters = cxsim.run(cxsim.compose(both(
        "transactional", "firms.sales_first.response={detractor:0,passive:0,promoter:1}")))
    only_detractors = cxsim.run(cxsim.compose(both(
        "transactional", "firms.sales_first.response={detractor:1,passive:0,promoter:0}")))
    for results, nps in ((only_promoters, 100.0), (only_detractors, -100.0)):
        ts = results.timeseries
        mine = ts[(ts.firm == "sales_first") & (ts.nps_surveyed > 0)]
        assert len(mine) > 0 and (mine.nps_measured == nps).all()


def _engine_after_a_year(*overrides: str) -> Engine:
    cfg = to_config(cxsim.compose([*SHORT, *overrides]))
    engine = Engine(cfg, [0], config_dir() / "journey")
    engine.run()
    return engine


def test_a_periodic_survey_asks_current_or_all_past_clients_and_the_study_all_of_them():
    engine = _engine_after_a_year("management.review=false")
    state, firms = engine.state, engine.firms
    for firm in firms:
        firm.cfg.survey_sample = 1.0
        firm.cfg.response = {"detractor": 1.0, "passive": 1.0, "promoter": 1.0}
    firms[0].cfg.asks, firms[1].cfg.asks = "relational", "market"
    levers = Levers.of(firms, engine.cfg, engine.touchpoints, engine.segments)
    asked = surveys(state, engine._keys["surveys"], 12, levers, 1.0, 2)
    dealt = (state.last_answer >= 0).sum(axis=0)
    current = (state.last_answer[:, 0] >= 0) & (state.firm == 0)
    assert dealt[0] > current.sum() > 0  # some of its past clients have left
    assert asked.invited.tolist() == [current.sum(), dealt[1]]
    assert asked.answered.tolist() == asked.invited.tolist()
    assert asked.study_answers.tolist() == dealt.tolist()
    promoters = (state.last_answer[current, 0] >= 9).sum()
    assert asked.promoters[0] == promoters
    half = surveys(state, engine._keys["surveys"], 12, levers, 0.5, 2)
    assert np.all(np.abs(half.study_answers - dealt / 2) < 4 * np.sqrt(dealt / 4))
    again = surveys(state, engine._keys["surveys"], 12, levers, 0.5, 2)
    assert vars(half).keys() == vars(again).keys()
    assert all(np.array_equal(vars(half)[k], vars(again)[k]) for k in vars(half))  # keyed
    other = surveys(state, engine._keys["surveys"], 13, levers, 0.5, 2)
    assert other.study_answers.tolist() != half.study_answers.tolist()


def test_the_industry_study_does_not_hear_what_a_firms_own_survey_is():
    """No firm steers by measured NPS here, so the firms' own instruments change nothing the
    clients do: the study's sample and answers must be the same, draw for draw."""
    steer = ["firms.sales_first.metric=sales", "firms.client_first.metric=clv"]
    a = cxsim.run(cxsim.compose(both("finished_walks", *steer))).timeseries
    b = cxsim.run(cxsim.compose(both("market", *steer))).timeseries
    assert a.nps_market_answers.sum() > 0
    for column in ("nps_market_answers", "nps_market", "nps_true", "active_clients"):
        assert a[column].equals(b[column]), column
    assert not a.nps_measured.equals(b.nps_measured)


@pytest.mark.parametrize("override, message", [
    ("firms.sales_first.asks=everyone",
     "firms.sales_first.asks must be one of finished_walks, transactional, relational, market"),
    ("firms.sales_first.response={detractor:0.1,passive:0.2,promoter:1.5}",
     "firms.sales_first.response.promoter must be in [0, 1]"),
    ("firms.sales_first.response={detractor:0.1,promoter:0.5}",
     "firms.sales_first.response.passive must be given"),
    ("firms.sales_first.survey=market firms.sales_first.survey_sample=0",
     "firms.sales_first.survey_sample must be above 0: a market survey of zero clients"),
    ("market.study_sample=0", "market.study_sample must be in (0, 1]"),
    ("firms.ghost.survey=market", "config key 'firms.ghost' does not exist"),
    ("firms.sales_first.survey=nosuch", "firms.sales_first.survey names no survey preset"),
])
def test_a_bad_survey_is_one_line_naming_the_key(tmp_path, override, message):
    done = subprocess.run([sys.executable, "-m", "cxsim", *override.split(), "sim=short",
                           f"hydra.run.dir={tmp_path}/run"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert not (tmp_path / "run").exists()
