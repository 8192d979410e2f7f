"""Label errors quote the labels as the user wrote them, not NumPy reprs."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skmtl import SingleTaskBaseline, Task

X = np.arange(12.0).reshape(6, 2)
SEX = np.array(["female", "male", "unknown", "male", "female", "male"],
               dtype=object)[:, None]


@pytest.mark.parametrize("task, Y, message", [
    (Task("sex", "binary"), SEX,
     "labels hold 3 classes ['female', 'male', 'unknown']; use "
     "Task('sex', 'classification')"),
    (Task("sex", "binary", classes=["female", "male"]), SEX,
     "task 'sex': labels ['unknown'] are not among the declared classes "
     "['female', 'male']."),
    (Task("sex", "binary"), np.array(["a"] * 6, dtype=object)[:, None],
     "only the class 'a' occurs in Y"),
    (Task("digit", "classification"), np.array([[0], [1], [0.5], [1], [0], [1]]),
     "the non-integer value 0.5 (continuous targets)"),
])
def test_fit_errors_quote_plain_values(task, Y, message):
    with pytest.raises(ValueError) as error:
        SingleTaskBaseline(LogisticRegression(), tasks=[task]).fit(X, Y)
    assert message in str(error.value)
    assert "np." not in str(error.value)


def test_unseen_class_error_quotes_plain_values():
    model = SingleTaskBaseline(LogisticRegression(), tasks=[Task("sex", "binary")])
    model.fit(X, SEX[[0, 1, 3, 4, 5, 0]])
    with pytest.raises(ValueError) as error:
        model.score(X, SEX)
    assert ("label 'unknown' was not seen during fit (known classes: "
            "['female', 'male'])") in str(error.value)
