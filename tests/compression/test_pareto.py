"""The Pareto helper: higher accuracy and lower cost win."""

from modelhub.compression import pareto_front


def test_dominated_points_are_not_on_the_front():
    points = [(0.98, 240.0), (0.98, 70.0), (0.97, 38.0), (0.96, 80.0), (0.90, 30.0)]
    assert pareto_front(points) == [False, True, True, False, True]


def test_identical_points_are_both_on_the_front():
    assert pareto_front([(0.9, 10.0), (0.9, 10.0)]) == [True, True]


def test_empty_input_gives_empty_front():
    assert pareto_front([]) == []
