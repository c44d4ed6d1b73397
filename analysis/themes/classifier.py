"""Which themes a comment speaks of, and how: the classifier over the taxonomy.

A comment is cut into clauses (punctuation, then contrast words such as 但是 or "but"),
each clause into tokens. Tokens are read left to right, longest phrase first, as cues of
themes, judging words, negators, intensifiers. A negator flips the next judging word (or
judging cue) within three tokens, so 不太满意 is negative and 没有排队 good news for the
queue; an intensifier makes the next one weigh half as much again. A theme's sentiment
is the sum of what judges it within four tokens of its cue in the same clause; the
comment's is the side most of its themes are on, else the sum over all clauses, clauses
after a contrast weighing a little more.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from analysis.themes import segment
from analysis.themes.taxonomy import Taxonomy, load_taxonomy

NEGATIVE = "negative"
NEUTRAL = "neutral"
POSITIVE = "positive"
SENTIMENTS: tuple[str, ...] = (NEGATIVE, NEUTRAL, POSITIVE)

#: How far a negator or intensifier reaches (tokens), and a cue's judging words.
NEGATION_REACH = 3
INTENSIFIER_REACH = 2
WINDOW = 4
#: A cue that judges by itself weighs less than a judging word next to it, so that
#: 排队很快 (a queue, quickly) is good news.
CUE_WEIGHT = 0.6
INTENSIFIED = 1.5
AFTER_CONTRAST = 1.3
THRESHOLD = 0.25


@dataclass(frozen=True, slots=True)
class ThemeHit:
    """One theme of a comment and the sentiment it was spoken of."""

    theme: str
    sentiment: str


@dataclass(frozen=True, slots=True)
class Classification:
    """A comment's themes (each at most once, in taxonomy order) and overall sentiment."""

    themes: tuple[ThemeHit, ...]
    sentiment: str


@dataclass
class _Role:
    """What one phrase can be: cue of themes (with polarity), judging word, modifier."""

    cues: dict[str, int] = field(default_factory=dict)
    weak: set[str] = field(default_factory=set)
    polarity: int = 0
    theme_polarity: dict[str, int] = field(default_factory=dict)
    negator: bool = False
    intensifier: bool = False
    contrast: bool = False


@dataclass(frozen=True, slots=True)
class _Tables:
    roles: dict[tuple[str, ...], _Role]
    longest: int
    order: dict[str, int]


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(token for part in segment.segments(text) for token in segment.tokens(part))


@cache
def _tables() -> _Tables:
    taxonomy = load_taxonomy()
    segment.configure(_all_words(taxonomy))
    roles: dict[tuple[str, ...], _Role] = defaultdict(_Role)
    for theme in taxonomy.themes:
        for cue in theme.cues:
            role = roles[_phrase(cue.text)]
            role.cues[theme.key] = cue.polarity
            if cue.weak:
                role.weak.add(theme.key)
        for words, sign in ((theme.positive, 1), (theme.negative, -1)):
            for word in words:
                roles[_phrase(word)].theme_polarity[theme.key] = sign
    lexicon = taxonomy.lexicon
    for words, sign in ((lexicon.positive, 1), (lexicon.negative, -1)):
        for word in words:
            roles[_phrase(word)].polarity = sign
    for word in lexicon.negators:
        roles[_phrase(word)].negator = True
    for word in lexicon.intensifiers:
        roles[_phrase(word)].intensifier = True
    for word in lexicon.contrasts:
        roles[_phrase(word)].contrast = True
    roles.pop((), None)
    order = {key: i for i, key in enumerate(taxonomy.keys)}
    return _Tables(dict(roles), max(len(p) for p in roles), order)


def _all_words(taxonomy: Taxonomy) -> list[str]:
    words = [cue.text for theme in taxonomy.themes for cue in theme.cues]
    words += [w for theme in taxonomy.themes for w in (*theme.positive, *theme.negative)]
    lex = taxonomy.lexicon
    words += [*lex.positive, *lex.negative, *lex.negators, *lex.intensifiers, *lex.contrasts]
    return words


def _read(tokens: list[str], tables: _Tables) -> list[_Role | None]:
    """The roles of the phrases of a token list, longest match first (None: no role)."""
    out: list[_Role | None] = []
    i = 0
    while i < len(tokens):
        for size in range(min(tables.longest, len(tokens) - i), 0, -1):
            role = tables.roles.get(tuple(tokens[i : i + size]))
            if role is not None:
                out.append(role)
                i += size
                break
        else:
            out.extend(_inside(tokens[i], tables))
            i += 1
    return out


def _inside(token: str, tables: _Tables) -> list[_Role | None]:
    """The phrases inside a Chinese word jieba knows but the taxonomy does not (its own
    dictionary has 价格便宜 as one word), longest first; ``[None]`` when there are none."""
    if token.isascii() or len(token) < 2:
        return [None]
    if len(token) == 2:
        return _modified_pair(token, tables)
    found: list[_Role | None] = []
    k = 0
    while k < len(token):
        for end in range(len(token), k, -1):
            role = tables.roles.get((token[k:end],))
            if role is not None and end - k < len(token):
                found.append(role)
                k = end
                break
        else:
            k += 1
    return found or [None]


def _clauses(text: str, tables: _Tables) -> list[tuple[list[_Role | None], float]]:
    """Clauses as role lists, each with its weight (more after a contrast word)."""
    clauses: list[tuple[list[_Role | None], float]] = []
    for part in segment.segments(text):
        current: list[_Role | None] = []
        weight = 1.0
        for role in _read(segment.tokens(part), tables):
            if role is not None and role.contrast and not role.cues:
                if current:
                    clauses.append((current, weight))
                current, weight = [], AFTER_CONTRAST
            else:
                current.append(role)
        if current:
            clauses.append((current, weight))
    return clauses


def _modified_pair(token: str, tables: _Tables) -> list[_Role | None]:
    """A two-character word jieba made of an intensifier or a negator and a judging word
    (很脏, 太慢, 很快): the two roles. Any other pair stays whole: splitting every pair
    would read 好 in 只好 ("had to") as praise."""
    first, second = tables.roles.get((token[0],)), tables.roles.get((token[1],))
    if first is not None and (first.intensifier or first.negator) and _judges(second):
        return [first, second]
    return [None]


def _judges(role: _Role | None) -> bool:
    return role is not None and bool(
        role.polarity or role.theme_polarity or any(role.cues.values())
    )


def _modifiers(roles: list[_Role | None]) -> list[float]:
    """Per position: -1/+1 for negation times 1.5 when intensified."""
    mods = [1.0] * len(roles)
    negated_at = intensified_at = -99
    for i, role in enumerate(roles):
        if role is None:
            continue
        if _judges(role):
            # A word both intensifier and judge (好) intensifies only a judge right after it.
            if role.intensifier and i + 1 < len(roles) and _judges(roles[i + 1]):
                intensified_at = i
                continue
            if i - negated_at <= NEGATION_REACH:
                mods[i] = -1.0
                negated_at = -99
            if i - intensified_at <= INTENSIFIER_REACH:
                mods[i] *= INTENSIFIED
                intensified_at = -99
        elif role.negator:
            negated_at = i
        elif role.intensifier:
            intensified_at = i
    return mods


def _score(label: float) -> str:
    if label > THRESHOLD:
        return POSITIVE
    if label < -THRESHOLD:
        return NEGATIVE
    return NEUTRAL


def classify(text: str) -> Classification:
    """The themes of one comment, each with its sentiment, and the comment's sentiment.

    Parameters
    ----------
    text : str
        The comment, in Chinese, English or both.

    Returns
    -------
    Classification
        Themes in taxonomy order, each at most once; empty text has none and is neutral.

    Examples
    --------
    >>> classify("排队太久了，收银员态度还不错")
    ... # doctest: +NORMALIZE_WHITESPACE
    Classification(themes=(ThemeHit(theme='checkout', sentiment='positive'),
    ThemeHit(theme='queue', sentiment='negative'),
    ThemeHit(theme='staff_attitude', sentiment='positive')), sentiment='positive')
    """
    if not text or not text.strip():
        return Classification((), NEUTRAL)
    tables = _tables()
    found: dict[str, _Judgement] = {}
    overall = 0.0
    for roles, weight in _clauses(text, tables):
        clause = _judge_clause(roles)
        overall += clause.score * weight
        for theme, judgement in clause.themes.items():
            if not judgement.judged:
                # Nothing judges the theme near its cue: the clause's tone stands for it.
                judgement = _Judgement(clause.score, clause.score != 0)
            before = found.get(theme)
            found[theme] = judgement if before is None else before.plus(judgement)
    hits = tuple(
        ThemeHit(theme, _score(found[theme].score if found[theme].judged else overall))
        for theme in sorted(found, key=tables.order.__getitem__)
    )
    return Classification(hits, _overall(hits, overall))


def _overall(hits: tuple[ThemeHit, ...], clause_sum: float) -> str:
    """The comment's sentiment: the side most of its themes are on; with no theme, or as
    many on each side, the weighted sum of its clauses. (Three complaints and one "but the
    parking is easy" read negative, though the last clause weighs more.)"""
    negative = sum(hit.sentiment == NEGATIVE for hit in hits)
    positive = sum(hit.sentiment == POSITIVE for hit in hits)
    if negative != positive:
        return NEGATIVE if negative > positive else POSITIVE
    return _score(clause_sum)


@dataclass(frozen=True, slots=True)
class _Judgement:
    score: float
    judged: bool

    def plus(self, other: _Judgement) -> _Judgement:
        return _Judgement(self.score + other.score, self.judged or other.judged)


@dataclass(frozen=True, slots=True)
class _Clause:
    score: float
    themes: dict[str, _Judgement]


def _judge_clause(roles: list[_Role | None]) -> _Clause:
    """The themes named in one clause, each judged by the words near its cue, and the
    clause's own score (judging words, judging cues, theme words next to their cue)."""
    mods = _modifiers(roles)
    themes: dict[str, _Judgement] = {}
    score = 0.0
    used: set[int] = set()
    for i, role in enumerate(roles):
        if role is None or not role.cues:
            continue
        for theme, sign in role.cues.items():
            total = sign * CUE_WEIGHT * mods[i]
            own_word = False
            judged = sign != 0
            for j in range(max(0, i - WINDOW), min(len(roles), i + WINDOW + 1)):
                other = roles[j]
                if j == i or other is None:
                    continue
                if theme in other.theme_polarity:
                    total += other.theme_polarity[theme] * mods[j]
                    own_word = judged = True
                    if j not in used and not other.polarity:
                        score += other.theme_polarity[theme] * mods[j]
                        used.add(j)
                elif other.polarity:
                    total += other.polarity * mods[j]
                    judged = True
            if theme in role.weak and not own_word:
                continue
            themes[theme] = _Judgement(total, judged)
        if i not in used and not role.polarity and any(role.cues.values()):
            cue_sign = min(role.cues.values()) or max(role.cues.values())
            score += cue_sign * CUE_WEIGHT * mods[i]
            used.add(i)
    for i, role in enumerate(roles):
        if role is not None and role.polarity:
            score += role.polarity * mods[i]
    return _Clause(score, themes)
