"""A recommender funnel: impressions of items to users, clicks, then conversions."""

import numbers

import numpy as np
from scipy.optimize import brentq
from sklearn.utils import Bunch, check_random_state

__all__ = ["make_funnel"]

# Rows generated at a time: bounds the temporaries whatever n_impressions is,
# and fixes the random stream of each block, so that the output does not
# depend on anything but the parameters and random_state.
_BLOCK = 1 << 16
# Impressions drawn to set the intercepts (between these bounds: at least as
# many as are generated, so that calibration adds no more error than sampling).
_CALIBRATION_SIZES = (1 << 15, 1 << 18)
# Variances of the parts of each stage's logit before selection (sum 2).
_INTERACTION_VARIANCE = 1.0
_BIAS_VARIANCE = 0.25  # the user's and the item's, each
_CONTEXT_VARIANCE = 0.5


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _check_int(value, name, minimum):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) \
            or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def _check_real(value, name, low=-np.inf, high=np.inf):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) \
            or not np.isfinite(value) or not low <= value <= high:
        bounds = f" in [{low}, {high}]" if np.isfinite(low) and np.isfinite(high) \
            else (f" >= {low}" if np.isfinite(low) else "")
        raise ValueError(f"{name} must be a finite number{bounds}, got {value!r}.")


def _popularity(n, exponent, rng):
    """Zipf-like frequencies ``1 / rank ** exponent``, ranks shuffled over ids."""
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    weights = weights[rng.permutation(n)]
    return weights / weights.sum()


def _white_columns(rng, frequency, n_columns):
    """Gaussian columns, centered and uncorrelated under ``frequency``.

    Users and items appear with Zipf-like frequencies, so a few dozen of them
    make most impressions; independent draws of their per-stage biases and
    factors would then correlate the stages over the impressions by chance
    (clicked impressions converting 10 to 20% more or less often than the
    others with a few hundred items). Mixing the columns by the inverse of
    their frequency-weighted Cholesky factor makes them centered, of unit
    variance and uncorrelated over the impressions. With no more users
    (items) than columns, the draws are kept as they are.
    """
    columns = rng.standard_normal((len(frequency), n_columns))
    if len(frequency) > n_columns:
        columns -= frequency @ columns
        r = np.linalg.qr(np.sqrt(frequency)[:, None] * columns, mode="r")
        r *= np.where(np.diag(r) < 0, -1.0, 1.0)[:, None]
        columns = columns @ np.linalg.inv(r)
    return columns


class _FunnelModel:
    """The latent model of a funnel: factors, biases, context effects, intercepts."""

    def __init__(self, n_users, n_items, n_stages, n_factors, shared_factors,
                 selection_bias, user_popularity, item_popularity, n_numeric, rng):
        d = n_factors
        n_shared = int(round(shared_factors * d))
        # Shared dimensions: on the first half every stage uses the same user
        # vectors (with its own item vectors), on the second half the same
        # item vectors (with its own user vectors). Each product pairs a
        # common side with a stage's own side, so a user's (an item's) shared
        # vector serves every stage while the stages' propensities stay
        # uncorrelated.
        user_shared, item_shared = (n_shared + 1) // 2, n_shared // 2
        self.n_shared_factors = n_shared
        self.user_frequency = _popularity(n_users, user_popularity, rng)
        self.item_frequency = _popularity(n_items, item_popularity, rng)
        self._user_cdf = np.cumsum(self.user_frequency)
        self._item_cdf = np.cumsum(self.item_frequency)
        scale = (_INTERACTION_VARIANCE / d) ** 0.25  # on each side of a product
        bias_scale = np.sqrt(_BIAS_VARIANCE)
        # A stage's own user dimensions are the item-shared and private ones;
        # its own item dimensions, the user-shared and private ones.
        user_own = np.r_[user_shared:d]
        item_own = np.r_[0:user_shared, n_shared:d]
        # One whitened draw per side: the common columns, then per stage its
        # bias and its own factor columns.
        users = _white_columns(rng, self.user_frequency,
                               user_shared + n_stages * (1 + len(user_own)))
        items = _white_columns(rng, self.item_frequency,
                               item_shared + n_stages * (1 + len(item_own)))
        self.user_factors = np.empty((n_stages, n_users, d))
        self.item_factors = np.empty((n_stages, n_items, d))
        self.user_bias = np.empty((n_stages, n_users))
        self.item_bias = np.empty((n_stages, n_items))
        for k in range(n_stages):
            start = user_shared + k * (1 + len(user_own))
            self.user_bias[k] = bias_scale * users[:, start]
            self.user_factors[k][:, :user_shared] = scale * users[:, :user_shared]
            self.user_factors[k][:, user_own] = scale * users[
                :, start + 1:start + 1 + len(user_own)]
            start = item_shared + k * (1 + len(item_own))
            self.item_bias[k] = bias_scale * items[:, start]
            self.item_factors[k][:, user_shared:n_shared] = scale * items[
                :, :item_shared]
            self.item_factors[k][:, item_own] = scale * items[
                :, start + 1:start + 1 + len(item_own)]
        coef = rng.standard_normal((n_numeric, n_stages))
        if n_numeric >= n_stages > 0:
            # Orthogonal effects of Gaussian context: independent across stages.
            coef = np.linalg.qr(coef)[0]
        elif n_numeric:
            coef /= np.linalg.norm(coef, axis=0, keepdims=True)
        self.context_coef = np.sqrt(_CONTEXT_VARIANCE) * coef
        self.selection_bias = float(selection_bias)
        self.n_numeric = n_numeric
        self.n_stages = n_stages
        self._center = np.zeros(n_stages)
        self._scale = np.ones(n_stages)
        self.intercepts = np.zeros(n_stages)

    def draw_impressions(self, rng, n, dtype):
        users = np.searchsorted(self._user_cdf, rng.random(n) * self._user_cdf[-1],
                                side="right")
        items = np.searchsorted(self._item_cdf, rng.random(n) * self._item_cdf[-1],
                                side="right")
        np.minimum(users, len(self._user_cdf) - 1, out=users)
        np.minimum(items, len(self._item_cdf) - 1, out=items)
        context = rng.standard_normal((n, self.n_numeric), dtype=dtype)
        return users.astype(np.int64), items.astype(np.int64), context

    def _own_propensities(self, users, items, context):
        """Each stage's ``s_k`` (n, n_stages), before selection."""
        own = np.empty((len(users), self.n_stages))
        for k in range(self.n_stages):
            own[:, k] = np.einsum("ij,ij->i", self.user_factors[k][users],
                                  self.item_factors[k][items])
            own[:, k] += self.user_bias[k][users] + self.item_bias[k][items]
        # Column by column rather than a matrix product: BLAS threads cost
        # more than they gain on a (rows, few) by (few, stages) product.
        for j in range(self.n_numeric):
            own += context[:, j, None] * self.context_coef[j]
        return own

    def _lean(self, logits, k):
        """Stage k leans on the standardized logit of stage k + 1 (in place)."""
        following = (logits[:, k + 1] - self._center[k + 1]) / self._scale[k + 1]
        logits[:, k] += self.selection_bias * following

    def propensities(self, users, items, context):
        """Each stage's logit without its intercept, selection included."""
        logits = self._own_propensities(users, items, context)
        # From the last stage back, so that a stage leans on the next one's
        # logit, which leans on the one after.
        for k in range(self.n_stages - 2, -1, -1):
            self._lean(logits, k)
        return logits

    def calibrate(self, users, items, context, rates):
        """Standardize the propensities and set the intercepts to the rates."""
        logits = self._own_propensities(users, items, context)
        for k in range(self.n_stages - 1, -1, -1):
            if k < self.n_stages - 1:
                self._lean(logits, k)
            self._center[k] = logits[:, k].mean()
            self._scale[k] = max(logits[:, k].std(), 1e-12)
        reached = np.ones(len(users))
        for k, rate in enumerate(rates):
            total = reached.sum()
            z = logits[:, k]

            def gap(b, z=z, total=total, reached=reached, rate=rate):
                # not "@": a threaded BLAS dot costs more than it gains here
                return np.sum(reached * _sigmoid(z + b)) / total - rate

            self.intercepts[k] = brentq(gap, -60.0, 60.0, xtol=1e-10)
            reached = reached * _sigmoid(z + self.intercepts[k])


def make_funnel(n_impressions=5000, n_users=300, n_items=100, *,
                stages=("click", "conversion"), rates=(0.1, 0.1), n_factors=8,
                shared_factors=0.5, selection_bias=1.0, user_popularity=1.0,
                item_popularity=1.0, n_numeric=4, as_frame=True, dtype=np.float64,
                random_state=None, return_structure=False):
    """Impressions of items to users, and a funnel of stages: click, conversion...

    Each row is an impression of an item to a user: the ``user_id`` and
    ``item_id`` (int64 ids) and ``n_numeric`` numeric context columns. ``Y``
    has one column per stage; a stage is observed only where the previous
    one happened (a conversion only after a click), ``NaN`` elsewhere: "not
    applicable", not "unknown". Users and items appear with Zipf-like
    frequencies (``frequency ~ 1 / rank ** popularity``, ranks shuffled over
    the ids).

    Stage ``k`` happens, given stage ``k - 1``, with probability
    ``sigmoid(intercept_k + s_k + selection_bias * standardized(s_{k+1}))``
    where the propensity ``s_k`` of an impression of item ``i`` to user ``u``
    in context ``x`` is

    ``s_k = <p_uk, q_ik> + a_uk + b_ik + c_k . x``

    latent user and item factors (``n_factors`` dimensions), user and item
    biases and context effects. The factors and biases are Gaussian draws
    made centered, of unit variance and uncorrelated over the impressions
    (whitened under the users' and items' frequencies), and scaled so that
    the interaction has variance 1, each bias 0.25 and the context 0.5:
    ``s_k`` has variance 2 over the impressions before selection.

    - ``shared_factors`` in [0, 1] is the fraction of the factor dimensions
      the stages share: on half of the shared dimensions every stage uses
      the same user vectors (with its own item vectors), on the other half
      the same item vectors. What a model learns about a user from clicks
      then serves the conversion task too, while the stages' propensities
      stay uncorrelated (a shared side is always multiplied by a stage's own
      side), so that sharing alone does not make clicked impressions convert
      more often.
    - ``selection_bias`` is the weight, in each stage's logit, of the next
      stage's propensity (standardized over impressions, and leaning itself
      on the stage after): users click what they would buy. With a large
      value, clicked impressions convert more often than the others, and a
      conversion model trained on clicked impressions only overestimates
      conversion on the entire space (the sample selection bias of Ma et
      al., ESMM). With 0, clicks do not lean on the conversion propensity:
      clicked impressions convert at about the others' rate, up to the
      chance associations of a log that a few popular users and items
      dominate (within about 10% at the default sizes).
    - The intercepts are set, by a 1-D root find per stage on a sample of
      impressions, so that each stage's expected rate among the impressions
      that reached the previous stage equals ``rates``.

    Parameters
    ----------
    n_impressions : int, default=5000
        Rows.
    n_users, n_items : int, default=300, 100
    stages : sequence of str, default=("click", "conversion")
        Names of the stages in funnel order (the columns of ``Y``); any
        depth, e.g. ``("click", "cart", "purchase")``.
    rates : sequence of float, default=(0.1, 0.1)
        One rate per stage, in (0, 1): the click-through rate over
        impressions, then each stage's rate over the impressions that
        reached the previous stage (conversions per click).
    n_factors : int, default=8
        Dimensions of the latent user and item factors.
    shared_factors : float, default=0.5
        Fraction of the factor dimensions shared by the stages (0: none, 1:
        every one).
    selection_bias : float, default=1.0
        Weight of the next stage's standardized propensity in each stage's
        logit (0: no selection bias; negative: clicks select against
        conversion).
    user_popularity, item_popularity : float, default=1.0
        Zipf exponents of the users' and items' frequencies in the log (0:
        uniform).
    n_numeric : int, default=4
        Numeric context columns ``context_0``, ... (standard normal). Their
        effects on the stages are orthogonal when ``n_numeric >=
        len(stages)``, which keeps the stages uncorrelated without selection.
    as_frame : bool, default=True
        Return ``X`` and ``Y`` as pandas DataFrames (int64 ``user_id`` and
        ``item_id``, numeric columns of ``dtype``; ``Y`` columns named after
        the stages). False returns ndarrays: ``X`` of float64 with the ids in
        its first two columns (exact below 2**53; ``X[:, :2].astype(np.int64)``
        recovers them) and ``Y`` of ``dtype``.
    dtype : {np.float64, np.float32}, default=np.float64
        Floating type of the numeric columns, of ``Y`` and of the
        probabilities.
    random_state : int, RandomState or None, default=None
    return_structure : bool, default=False
        Also return a Bunch of the true probabilities and counterfactual
        labels.

    Returns
    -------
    X : DataFrame or ndarray of shape (n_impressions, 2 + n_numeric)
    Y : DataFrame or ndarray of shape (n_impressions, n_stages)
        1.0 / 0.0 where the stage was reachable, ``NaN`` where the previous
        stage did not happen.
    structure : Bunch
        Only with ``return_structure=True``:

        - ``counterfactual``: int8 (n_impressions, n_stages), every
          impression's label of each stage had the previous stage happened
          (would it have converted had it been clicked); ``Y`` is this
          label where the previous stage happened. Column 0 is the click.
        - ``conditional_proba``: (n_impressions, n_stages), the true
          ``P(stage k | stage k - 1)``: ``P(click)``, ``P(conversion |
          click)``, ...
        - ``joint_proba``: (n_impressions, n_stages), the true probability
          that stages 0 to k all happen: ``P(click)``, ``P(click and
          conversion)``, ...
        - ``stages``, ``rates``, ``intercepts``, ``user_factors`` (n_stages,
          n_users, n_factors), ``item_factors``, ``user_bias`` (n_stages,
          n_users), ``item_bias``, ``context_coef`` (n_numeric, n_stages),
          ``user_frequency``, ``item_frequency``, ``n_shared_factors``.

        The AUC of ``conditional_proba[:, k]`` against ``counterfactual[:,
        k]`` over every impression is the ceiling of an entire-space model
        of stage k; that of ``joint_proba[:, k]`` against the product of
        the counterfactual labels up to k, the ceiling of a joint model.

    Notes
    -----
    Memory: with ``as_frame=True``, ``q`` numeric columns, ``K`` stages and
    ``b`` bytes per float (8 for float64, 4 for float32), a row takes
    ``16 + (q + K) * b`` bytes, plus ``K * (1 + 2 * b)`` with
    ``return_structure``: 64 (98) bytes with the defaults, 1.3 GB (2.0 GB)
    for 20 million impressions; 40 (58) bytes in float32. ``as_frame=False``
    stores ``X`` in float64 (``8 * (2 + q)`` bytes). Generation works in
    blocks of 65,536 rows, so its temporaries stay a few megabytes whatever
    ``n_impressions``. The output depends only on the parameters and
    ``random_state`` (not on ``as_frame``).

    Ma et al., "Entire Space Multi-Task Model: An Effective Approach for
    Estimating Post-Click Conversion Rate", SIGIR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.datasets import make_funnel
    >>> X, Y, truth = make_funnel(n_impressions=2000, random_state=0,
    ...                           return_structure=True)
    >>> list(X.columns)
    ['user_id', 'item_id', 'context_0', 'context_1', 'context_2', 'context_3']
    >>> X.dtypes["user_id"]
    dtype('int64')
    >>> clicked = Y["click"] == 1
    >>> bool(Y.loc[~clicked, "conversion"].isna().all())
    True
    >>> truth.conditional_proba.shape
    (2000, 2)
    """
    _check_int(n_impressions, "n_impressions", 1)
    _check_int(n_users, "n_users", 1)
    _check_int(n_items, "n_items", 1)
    _check_int(n_factors, "n_factors", 1)
    _check_int(n_numeric, "n_numeric", 0)
    if isinstance(stages, str) or not len(stages):
        raise ValueError(f"stages must be a non-empty sequence of names, got "
                         f"{stages!r}.")
    stages = tuple(str(s) for s in stages)
    if len(set(stages)) != len(stages):
        raise ValueError(f"stages must have distinct names, got {stages}.")
    if isinstance(rates, numbers.Real):
        rates = (rates,)
    rates = tuple(rates)
    if len(rates) != len(stages):
        raise ValueError(f"rates holds {len(rates)} value(s) for {len(stages)} "
                         f"stages {stages}: give one rate per stage.")
    for stage, rate in zip(stages, rates, strict=True):
        _check_real(rate, f"the rate of stage {stage!r}", 0.0, 1.0)
        if not 0.0 < rate < 1.0:
            raise ValueError(f"the rate of stage {stage!r} must be strictly "
                             f"between 0 and 1, got {rate!r}.")
    _check_real(shared_factors, "shared_factors", 0.0, 1.0)
    _check_real(selection_bias, "selection_bias")
    _check_real(user_popularity, "user_popularity", 0.0)
    _check_real(item_popularity, "item_popularity", 0.0)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be np.float32 or np.float64, got {dtype}.")
    if as_frame:
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("make_funnel(as_frame=True) needs pandas (pip "
                              "install 'skmtl[datasets]'); pass as_frame=False "
                              "for arrays.") from exc

    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    model_seed, calibration_seed, blocks_seed = np.random.SeedSequence(seed).spawn(3)
    n_stages = len(stages)
    model = _FunnelModel(n_users, n_items, n_stages, n_factors, shared_factors,
                         selection_bias, user_popularity, item_popularity,
                         n_numeric, np.random.default_rng(model_seed))
    n_calibration = int(np.clip(n_impressions, *_CALIBRATION_SIZES))
    model.calibrate(*model.draw_impressions(np.random.default_rng(calibration_seed),
                                            n_calibration, np.float64), rates)

    users = np.empty(n_impressions, dtype=np.int64)
    items = np.empty(n_impressions, dtype=np.int64)
    numeric = [np.empty(n_impressions, dtype=dtype) for _ in range(n_numeric)]
    Y = np.empty((n_impressions, n_stages), dtype=dtype)
    if return_structure:
        counterfactual = np.empty((n_impressions, n_stages), dtype=np.int8)
        conditional = np.empty((n_impressions, n_stages), dtype=dtype)
        joint = np.empty((n_impressions, n_stages), dtype=dtype)
    n_blocks = -(-n_impressions // _BLOCK)
    for block, block_seed in enumerate(blocks_seed.spawn(n_blocks)):
        rng = np.random.default_rng(block_seed)
        rows = slice(block * _BLOCK, min((block + 1) * _BLOCK, n_impressions))
        n = rows.stop - rows.start
        u, i, context = model.draw_impressions(rng, n, dtype)
        proba = _sigmoid(model.propensities(u, i, context) + model.intercepts)
        labels = rng.random((n, n_stages)) < proba
        users[rows], items[rows] = u, i
        for j in range(n_numeric):
            numeric[j][rows] = context[:, j]
        reached = np.cumprod(labels, axis=1)
        Y[rows] = np.where(np.c_[np.ones((n, 1), dtype=bool), reached[:, :-1]],
                           labels, np.nan)
        if return_structure:
            counterfactual[rows] = labels
            conditional[rows] = proba
            joint[rows] = np.cumprod(proba, axis=1)

    names = ["user_id", "item_id"] + [f"context_{j}" for j in range(n_numeric)]
    if as_frame:
        X = pd.DataFrame(dict(zip(names, [users, items, *numeric], strict=True)),
                         copy=False)
        Y = pd.DataFrame({s: Y[:, k] for k, s in enumerate(stages)}, copy=False)
    else:
        X = np.empty((n_impressions, len(names)))
        X[:, 0], X[:, 1] = users, items
        for j, column in enumerate(numeric):
            X[:, 2 + j] = column
    if not return_structure:
        return X, Y
    structure = Bunch(
        counterfactual=counterfactual, conditional_proba=conditional,
        joint_proba=joint, stages=stages, rates=rates,
        intercepts=model.intercepts.copy(), user_factors=model.user_factors,
        item_factors=model.item_factors, user_bias=model.user_bias,
        item_bias=model.item_bias, context_coef=model.context_coef,
        user_frequency=model.user_frequency, item_frequency=model.item_frequency,
        n_shared_factors=model.n_shared_factors)
    return X, Y, structure
