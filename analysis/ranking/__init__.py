"""Staff service score: empirical-Bayes shrinkage, a weighted composite and a cautious rank.

This is the staff ranking of DESIGN.md section 5 and of the awards reference
(``mystery-and-awards.md`` section 3: signals 3.2, formulas 3.3 a-f, fixtures 3.4, why not
the simpler rules 3.5). Its one promise: **3 lucky answers never beat 300 good ones**.

For staff member *s* in store *j* in one period there are four components, each shrunk
toward the store, the store shrunk toward the chain:

* ``customer`` (primary, 3.3a): the staff item of the receipt survey, *x* answers of 4-5 out
  of *n*. Posterior Beta(x + m mu_j, n - x + m (1 - mu_j)), estimate (x + m mu_j)/(n + m).
* ``nps`` (3.3b): receipt NPS, posterior Dirichlet(P + m pi_P, Pa + m pi_Pa, D + m pi_D).
  Reported on its own; it stands in for ``customer`` in the composite only for a person
  with **no** answers to the staff item (n = 0), because an overall score is not
  necessarily about the cashier it is filed under (reference 3.1).
* ``mystery`` (3.3c): normal-normal, estimate B mu_j + (1 - B) ybar with
  B = (sigma^2/k)/(tau^2 + sigma^2/k); no visit gives the store mean (no benefit, no penalty).
* ``complaints`` (3.3d): gamma-Poisson, (c + kappa r_j)/(T + kappa) per 1000 transactions.

The composite (3.3e) puts each signal on the scale of "between-staff standard deviations"
z_k = (theta_k - mu_chain,k)/tau_k, complaints with a minus sign so that a higher z is always
better, and Q = sum w_k z_k. Staff are ranked within their award group by the cautious
bound Q10 and proposed for the award when in the top ceil(10 % x eligible) (3.3f).

Choices the reference leaves open, and why
-----------------------------------------
* **Prior strength m** by the method of moments of 3.3a (weights n, staff with n >= 30,
  clamped to [5, 100], 20 when fewer than 30 such staff) - reproducible and explainable,
  where maximum likelihood is neither. One m serves the customer and the NPS component.
* **Store means** are the period's store totals shrunk to the chain with
  ``store_prior_strength`` pseudo-answers (pseudo-visits for mystery); for complaints the
  store rate is shrunk with the same kappa as the staff rate. The reference's trailing
  three-month store prior is not implemented: ``rank_staff`` sees one period's rows, and a
  store-month of 20 cashiers already holds thousands of answers.
* **tau_k** (3.3e, between-staff SD of the *true* value) follows from each prior:
  customer sqrt(mu(1 - mu)/(m + 1)) (the same identity that gives m from tau by the method
  of moments), NPS 100 sqrt((pi_P + pi_D - (pi_P - pi_D)^2)/(m + 1)) (the Dirichlet
  variance), complaints sqrt(r/kappa) (the Gamma prior's SD), mystery the fitted tau.
* **Mystery sigma and tau** (3.3c): sigma^2 = pooled within-staff variance of visit scores
  over staff with two or more visits (needs >= 20 degrees of freedom, else 15); tau^2 =
  variance of the staff means minus the mean of sigma^2/k (needs >= 30 visited staff, else
  8); both clamped to [1, 50] score points so that a month of identical scores cannot
  divide by zero. Pass quarterly estimates as parameters to follow the reference exactly.
* **Interval of a component**: exact 10th/90th percentiles for Beta, Normal and Gamma,
  and for the NPS (p_P - p_D under the Dirichlet) its CDF integrated over the detractor
  share with fixed Gauss-Legendre nodes and inverted by a vectorised safeguarded Newton
  search (:mod:`~analysis.ranking.nps_quantiles`; it replaced a Cornish-Fisher expansion
  that was up to 0.25 points off in skewed small-n cases).
* **Bound of the composite**: the normal approximation Q10 = Q - 1.2816 SD(Q),
  SD(Q)^2 = sum w_k^2 (SD_k/tau_k)^2, as in the fixture of 3.4 - except that for a person
  ranked on the NPS the 1.2816 SD of that signal is the distance from its estimate to its
  exact 10th (for Q90: 90th) percentile, so that the skewed small-n NPS posterior, not
  its normal approximation, decides who is above the cut. A Monte Carlo bound would
  make a person's Q10 depend on which random numbers their row happened to receive (on
  the input order and on who else is in the batch); the closed form is exact to
  reproduce, independent of the batch, and fast. Skewness matters most at small n, where
  the eligibility gate already removes people.
* **P(top)** (3.3f, shown, never selected on) is Monte Carlo: ``draws`` draws of each
  person's composite from its normal approximation, in a canonical order (group, then
  staff id) from ``seed``; the probability of being in the top ceil(10 % x size) of *all*
  staff of the group, so it answers "how likely is this person truly in the top 10 %".
  Its Monte Carlo error is at most 0.5/sqrt(draws) (0.016 at the default 1000).
* **Eligibility**: data weight omega >= 0.5 on the customer signal (n >= m),
  n >= ``min_n`` and n >= ``display_min_n`` (greyed is never ranked). An
  ``excluded_reason`` (open substantiated complaint, flagged answers, a serious upheld
  complaint, attendance: the caller's gates of 3.3d and 3.6) keeps the person ranked and
  shown but never proposed, and does not take a proposal slot.
* **Ties** (3.3f): Q10 desc, then Q desc, then n desc, then staff id asc; Q10 and Q are
  compared rounded to 6 decimals so that the order never rests on floating-point noise.
* **Coaching** ("training for those below baseline"): Q90 < ``baseline`` (default -1: even
  the optimistic estimate is a full between-staff SD below the chain). ``pulling_down``
  lists the composite's signals with a negative contribution w_k z_k, worst first.
* **Weight sensitivity** (3.3e): the number of staff whose proposal changes when any one
  weight moves by +0.1 or -0.1 (clipped at 0, then renormalised), over the six variants.
* A signal without any data in the whole chain (say, no mystery visit this month) has NaN
  estimates, z = 0, and its weight is shared among the others.

Performance
-----------
Everything is vectorised across staff with numpy; the only Python loops are over input
rows (to read them, and to build the result objects) and over award groups.
``python -m analysis.ranking`` times 4,000 synthetic staff (200 stores of 20, about 250
answers each, 0-2 mystery visits, 10 regions as award groups). On the idle 2-core
development machine: about 130 ms, wall and CPU alike (when other work shares the two
cores the wall time doubles, the CPU time stays near 135 ms) with the Cornish-Fisher NPS
bounds; the exact NPS percentiles add about 130 ms of CPU (``bench/nps_bounds_bench.py``:
250 ms of CPU for the whole ``rank_staff``). Of the rest, about a quarter is the
4 million P(top) draws, a third building the 20,000 frozen result objects, then the
exact Beta/Gamma percentiles (about 10 ms), the seven orderings of the weight-sensitivity
check and reading the rows. Constructing the 4,000 validated ``StaffInput`` rows costs the
caller another 16 ms.

Modules
-------
:mod:`~analysis.ranking.model` the inputs, parameters and results;
:mod:`~analysis.ranking.posteriors` the four shrinkage posteriors (3.3a-d);
:mod:`~analysis.ranking.priors` m, the store means and the mystery spreads by the method of
moments; :mod:`~analysis.ranking.composite` the z scores, weights and the Q10 bound (3.3e);
:mod:`~analysis.ranking.selection` ties, eligibility, proposals, P(top) and the weight
sensitivity (3.3f); :mod:`~analysis.ranking.staff` ``rank_staff``, which runs them in turn;
:mod:`~analysis.ranking.bands` the rank bands the store leaderboard shows instead of a score.
Every public name is importable from ``analysis.ranking``.

Examples
--------
>>> lucky = StaffInput(1, 1, "chain", 3, 3, 3, 0, 0, (), 0, 300)
>>> steady = StaffInput(2, 1, "chain", 270, 300, 200, 80, 20, (95.0,), 2, 4000)
>>> [(s.staff_id, s.rank, s.proposed) for s in rank_staff([lucky, steady]).scores]
[(1, None, False), (2, 1, True)]

References
----------
.. [1] Awards research brief, ``mystery-and-awards.md`` section 3 (formulas and fixtures).
.. [2] Robinson D. (2015). Understanding empirical Bayes estimation (using baseball
       statistics). varianceexplained.org.
.. [3] Efron B., Morris C. (1975). Data analysis using Stein's estimator and its
       generalizations. *JASA* 70:311-319.
.. [4] Lin R., Louis T.A., Paddock S.M., Ridgeway G. (2006). Loss function based ranking
       in two-stage, hierarchical models. *Bayesian Analysis* 1(4):915-946.
.. [5] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*.
"""

from analysis.ranking.bands import RankBand, rank_band
from analysis.ranking.composite import composite_score
from analysis.ranking.model import (
    HIGH_P,
    LOW_P,
    PER_1000,
    SLOTS,
    Z90,
    Component,
    CompositeScore,
    Posterior,
    Ranking,
    RankingParameters,
    SignalScale,
    StaffInput,
    StaffScore,
)
from analysis.ranking.posteriors import (
    beta_binomial_estimate,
    dirichlet_nps_estimate,
    gamma_poisson_estimate,
    normal_normal_estimate,
)
from analysis.ranking.priors import (
    DEFAULT_MYSTERY_SIGMA,
    DEFAULT_MYSTERY_TAU,
    DEFAULT_PRIOR_STRENGTH,
    MIN_MYSTERY_DF,
    MIN_MYSTERY_STAFF,
    MIN_STAFF_FOR_FIT,
    MIN_TRIALS_FOR_FIT,
    MYSTERY_SPREAD_BOUNDS,
    PRIOR_STRENGTH_BOUNDS,
    fit_mystery_spread,
    fit_prior_strength,
    shrink_store_means,
)
from analysis.ranking.selection import (
    SENSITIVITY_STEP,
    TIE_DECIMALS,
    beta_posterior_samples,
    minimum_answers,
    top_count,
    top_probabilities,
)
from analysis.ranking.staff import TOO_FEW_ANSWERS, rank_staff

__all__ = [
    "DEFAULT_MYSTERY_SIGMA",
    "DEFAULT_MYSTERY_TAU",
    "DEFAULT_PRIOR_STRENGTH",
    "HIGH_P",
    "LOW_P",
    "MIN_MYSTERY_DF",
    "MIN_MYSTERY_STAFF",
    "MIN_STAFF_FOR_FIT",
    "MIN_TRIALS_FOR_FIT",
    "MYSTERY_SPREAD_BOUNDS",
    "PER_1000",
    "PRIOR_STRENGTH_BOUNDS",
    "SENSITIVITY_STEP",
    "SLOTS",
    "TIE_DECIMALS",
    "TOO_FEW_ANSWERS",
    "Z90",
    "Component",
    "CompositeScore",
    "Posterior",
    "RankBand",
    "Ranking",
    "RankingParameters",
    "SignalScale",
    "StaffInput",
    "StaffScore",
    "beta_binomial_estimate",
    "beta_posterior_samples",
    "composite_score",
    "dirichlet_nps_estimate",
    "fit_mystery_spread",
    "fit_prior_strength",
    "gamma_poisson_estimate",
    "minimum_answers",
    "normal_normal_estimate",
    "rank_band",
    "rank_staff",
    "shrink_store_means",
    "top_count",
    "top_probabilities",
]
