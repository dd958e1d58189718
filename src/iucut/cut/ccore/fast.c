/* Fast label matching for the built-in profiles (iucut/cut/profiles.py: VI, DE, EN).
 *
 * Each profile's Matcher tries its rules' regexes in order. Here the first character of
 * the text says which rules can match at all, and the rules met most often (numbered
 * clauses and points, Vietnamese articles, German paragraphs) are matched by hand,
 * with the regex engine's semantics: the all-greedy path is what the engine tries first,
 * so when it matches, it is the match; when it fails and backtracking could still find
 * one, the answer is FAST_UNKNOWN and the Python Matcher decides. Texts no rule can
 * match (most candidate lines) are FAST_NONE at once.
 *
 * Change a built-in rule in profiles.py and this file together, then the rule set's
 * fingerprint in module.c (FAST_RULES): until then the cutter leaves that profile to its
 * Matcher. tests/unit/test_cut_core.py compares the two on generated and corpus texts
 * and names the new fingerprint.
 */
#include "fast.h"

#include <string.h>

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
} txt;

static inline Py_UCS4 at(const txt *t, Py_ssize_t k)
{
    return k < t->n ? PyUnicode_READ(t->kind, t->data, k) : 0;
}

/* re's \s, \w, \d on str patterns */
static inline int re_space(Py_UCS4 c) { return c != 0 && Py_UNICODE_ISSPACE(c); }
static inline int re_word(Py_UCS4 c) { return c == '_' || IU_ISALNUM(c); }
static inline int re_digit(Py_UCS4 c) { return c != 0 && IU_ISDECIMAL(c); }
static inline int az(Py_UCS4 c) { return c >= 'a' && c <= 'z'; }

/* (?=\s|$) at k */
static inline int space_or_end(const txt *t, Py_ssize_t k) { return k >= t->n || re_space(at(t, k)); }
/* (?![\w]) at k */
static inline int not_word(const txt *t, Py_ssize_t k) { return k >= t->n || !re_word(at(t, k)); }

static Py_ssize_t digits(const txt *t, Py_ssize_t k)
{
    while (re_digit(at(t, k)))
        k++;
    return k;
}

static int starts_with(const txt *t, Py_ssize_t k, const Py_UCS4 *w)
{
    for (Py_ssize_t i = 0; w[i]; i++)
        if (at(t, k + i) != w[i])
            return 0;
    return 1;
}

/* (?i:word) with re's Unicode case folding for these letters (s ~ U+017F, i ~ U+0130,
 * U+0131; see blocks' hint in scan.c). */
static int starts_with_ci(const txt *t, const char *w)
{
    for (Py_ssize_t i = 0; w[i]; i++) {
        Py_UCS4 x = at(t, i);
        Py_UCS4 lower = (x >= 'A' && x <= 'Z') ? x + 32 : x;
        if (lower == (Py_UCS4)w[i] || (w[i] == 's' && x == 0x17f) ||
            (w[i] == 'i' && (x == 0x130 || x == 0x131)))
            continue;
        return 0;
    }
    return 1;
}

static const Py_UCS4 W_CHUONG[] = {'C', 'h', 0x1b0, 0x1a1, 'n', 'g', 0};
static const Py_UCS4 W_MUC[] = {'M', 0x1ee5, 'c', 0};
static const Py_UCS4 W_PHAN[] = {'P', 'h', 0x1ea7, 'n', 0};
static const Py_UCS4 W_TIEU[] = {'T', 'i', 0x1ec3, 'u', 0};
static const Py_UCS4 W_DIEU[] = {0x110, 'i', 0x1ec1, 'u', 0};

static int found(iu_fast_label *out, int rule, Py_ssize_t a, Py_ssize_t b)
{
    out->a = a;
    out->b = b;
    out->a2 = out->b2 = -1;
    return rule;
}

/* -- vi ----------------------------------------------------------------------------------- */

enum { VI_ARTICLE = 4, VI_CLAUSE = 5, VI_POINT = 6 };

/* Điều\s+(?P<label>\d+[a-zđ]?(?:\.(?:\d+[a-zđ]?|[A-ZĐ]{1,4}))*) then [.:](?=\s|$) (line)
 * or (?![\w]) (heading) */
static int vi_article(const txt *t, int heading, iu_fast_label *out)
{
    if (!starts_with(t, 0, W_DIEU) || !re_space(at(t, 4)))
        return FAST_NONE;
    Py_ssize_t k = 4;
    while (re_space(at(t, k)))
        k++;
    if (!re_digit(at(t, k)))
        return FAST_NONE;
    Py_ssize_t e = digits(t, k);
    if (az(at(t, e)) || at(t, e) == 0x111)
        e++;
    while (at(t, e) == '.') {
        Py_UCS4 c = at(t, e + 1);
        if (re_digit(c)) {
            e = digits(t, e + 1);
            if (az(at(t, e)) || at(t, e) == 0x111)
                e++;
        } else if ((c >= 'A' && c <= 'Z') || c == 0x110) {
            Py_ssize_t q = e + 1, m = 0;
            while (m < 4 && ((at(t, q) >= 'A' && at(t, q) <= 'Z') || at(t, q) == 0x110)) {
                q++;
                m++;
            }
            e = q;
        } else {
            break;
        }
    }
    if (heading ? not_word(t, e) : ((at(t, e) == '.' || at(t, e) == ':') && space_or_end(t, e + 1)))
        return found(out, VI_ARTICLE, k, e);
    return FAST_UNKNOWN;
}

static int vi(const txt *t, int heading, iu_fast_label *out)
{
    Py_UCS4 c0 = at(t, 0);
    if (re_digit(c0)) { /* (?P<label>\d+)\.(?=\s|$) */
        Py_ssize_t e = digits(t, 0);
        if (at(t, e) == '.' && space_or_end(t, e + 1))
            return found(out, VI_CLAUSE, 0, e);
        return FAST_NONE;
    }
    if (az(c0) || c0 == 0x111) { /* (?P<label>[a-zđ]\d{0,2})\)(?=\s|$) */
        Py_ssize_t d = 0;
        while (d < 3 && re_digit(at(t, 1 + d)))
            d++;
        if (d <= 2 && at(t, 1 + d) == ')' && space_or_end(t, 2 + d))
            return found(out, VI_POINT, 0, 1 + d);
        return FAST_NONE;
    }
    switch (c0) {
    case 0x110:
        return vi_article(t, heading, out);
    case 'P':
        return starts_with(t, 0, W_PHAN) ? FAST_UNKNOWN : FAST_NONE;
    case 'C':
        return starts_with(t, 0, W_CHUONG) ? FAST_UNKNOWN : FAST_NONE;
    case 'T':
        return starts_with(t, 0, W_TIEU) ? FAST_UNKNOWN : FAST_NONE;
    case 'M':
        return starts_with(t, 0, W_MUC) ? FAST_UNKNOWN : FAST_NONE;
    default:
        return FAST_NONE;
    }
}

/* -- de ----------------------------------------------------------------------------------- */

enum { DE_PARAGRAPH = 4, DE_CLAUSE = 6, DE_POINT = 7, DE_SUBPOINT = 8 };

/* \d+[a-z]{0,max} from k (k at a digit): its end */
static Py_ssize_t de_number(const txt *t, Py_ssize_t k, int max)
{
    Py_ssize_t e = digits(t, k);
    for (int m = 0; m < max && az(at(t, e)); m++)
        e++;
    return e;
}

/* §§?\s*(?P<label>\d+[a-z]{0,3})(?:\s*(?:bis|und|,|-|–)\s*(?:§\s*)?(?P<label2>\d+[a-z]{0,3}))?
 * (?![\w]) from a leading § */
static int de_paragraph(const txt *t, iu_fast_label *out)
{
    Py_ssize_t k = 1;
    if (at(t, k) == 0xa7)
        k++;
    while (re_space(at(t, k)))
        k++;
    if (!re_digit(at(t, k)))
        return FAST_NONE;
    Py_ssize_t e1 = de_number(t, k, 3);
    /* the range, greedily */
    Py_ssize_t q = e1;
    while (re_space(at(t, q)))
        q++;
    Py_UCS4 c = at(t, q);
    Py_ssize_t sep = 0;
    if (c == 'b' && at(t, q + 1) == 'i' && at(t, q + 2) == 's')
        sep = 3;
    else if (c == 'u' && at(t, q + 1) == 'n' && at(t, q + 2) == 'd')
        sep = 3;
    else if (c == ',' || c == '-' || c == 0x2013)
        sep = 1;
    if (sep) {
        q += sep;
        while (re_space(at(t, q)))
            q++;
        Py_ssize_t r = q;
        if (at(t, r) == 0xa7) {
            r++;
            while (re_space(at(t, r)))
                r++;
        }
        if (!re_digit(at(t, r)) && r != q)
            r = q; /* without the optional "§\s*" */
        if (re_digit(at(t, r))) {
            Py_ssize_t e2 = de_number(t, r, 3);
            if (not_word(t, e2)) {
                found(out, DE_PARAGRAPH, k, e1);
                out->a2 = r;
                out->b2 = e2;
                return DE_PARAGRAPH;
            }
            return FAST_UNKNOWN;
        }
    }
    return not_word(t, e1) ? found(out, DE_PARAGRAPH, k, e1) : FAST_UNKNOWN;
}

/* One of the words the part ... section and Art. rules need, at k. */
static int de_keyword(const txt *t, Py_ssize_t k)
{
    static const char *words[] = {"Buch", "Teil", "Kapitel", "Unterabschnitt", "Titel",
                                  "Abschnitt", "Art"};
    for (int w = 0; w < 7; w++) {
        Py_ssize_t i = 0;
        while (words[w][i] && at(t, k + i) == (Py_UCS4)(unsigned char)words[w][i])
            i++;
        if (!words[w][i])
            return 1;
    }
    return 0;
}

static int de(const txt *t, int heading, iu_fast_label *out)
{
    Py_UCS4 c0 = at(t, 0);
    if (heading) {
        if (c0 == 0xa7)
            return de_paragraph(t, out);
        if (c0 == '(')
            return FAST_UNKNOWN; /* "(1)" or "(XX) § 1" */
        if (re_digit(c0)) {
            /* (?P<label>\d+[a-z]?)\.(?=\s|$) unless "1. Teil" (part ... section rules) */
            Py_ssize_t e = de_number(t, 0, 1);
            if (at(t, e) != '.' || !space_or_end(t, e + 1))
                return FAST_NONE;
            Py_ssize_t q = e + 1;
            while (re_space(at(t, q)))
                q++;
            return de_keyword(t, q) ? FAST_UNKNOWN : found(out, DE_POINT, 0, e);
        }
        if ((c0 >= 'A' && c0 <= 'Z') || c0 == 0xc4 || c0 == 0xd6 || c0 == 0xdc) {
            /* a keyword first, or after one word ("Erster Abschnitt") and maybe a number */
            if (de_keyword(t, 0))
                return FAST_UNKNOWN;
            Py_ssize_t q = 1;
            while (az(at(t, q)) || at(t, q) == 0xe4 || at(t, q) == 0xf6 || at(t, q) == 0xfc ||
                   at(t, q) == 0xdf)
                q++;
            if (!re_space(at(t, q)))
                return FAST_NONE;
            while (re_space(at(t, q)))
                q++;
            return re_digit(at(t, q)) || de_keyword(t, q) ? FAST_UNKNOWN : FAST_NONE;
        }
    } else if (c0 == '(') { /* \((?P<label>\d+[a-z]?)\)(?=\s|$) */
        if (!re_digit(at(t, 1)))
            return FAST_NONE;
        Py_ssize_t e = de_number(t, 1, 1);
        if (at(t, e) == ')' && space_or_end(t, e + 1))
            return found(out, DE_CLAUSE, 1, e);
        return FAST_NONE;
    } else if (re_digit(c0)) { /* (?P<label>\d+[a-z]?)\.(?=\s|$) */
        Py_ssize_t e = de_number(t, 0, 1);
        if (at(t, e) == '.' && space_or_end(t, e + 1))
            return found(out, DE_POINT, 0, e);
        return FAST_NONE;
    }
    if (az(c0)) { /* (?P<label>[a-z]{1,2})\)(?=\s|$) */
        Py_ssize_t e = az(at(t, 1)) ? 2 : 1;
        if (at(t, e) == ')' && space_or_end(t, e + 1))
            return found(out, DE_SUBPOINT, 0, e);
        return FAST_NONE;
    }
    return FAST_NONE;
}

/* -- en ----------------------------------------------------------------------------------- */

static int en(const txt *t, int heading)
{
    switch (at(t, 0)) {
    case 'p': case 'P':
        return starts_with_ci(t, "part") ? FAST_UNKNOWN : FAST_NONE;
    case 'c': case 'C':
        return starts_with_ci(t, "chapter") ? FAST_UNKNOWN : FAST_NONE;
    case 'a': case 'A':
        return starts_with_ci(t, "article") || starts_with_ci(t, "amendment") ? FAST_UNKNOWN
                                                                               : FAST_NONE;
    case 's': case 'S': case 0x17f:
        return starts_with_ci(t, "section") ? FAST_UNKNOWN : FAST_NONE;
    case 0xa7:
        return heading ? FAST_UNKNOWN : FAST_NONE;
    default:
        return FAST_NONE;
    }
}

int iu_fast_match(int profile, int heading, int kind, const void *data, Py_ssize_t n,
                  iu_fast_label *out)
{
    txt t = {kind, data, n};
    switch (profile) {
    case FAST_VI:
        return vi(&t, heading, out);
    case FAST_DE:
        return de(&t, heading, out);
    case FAST_EN:
        return en(&t, heading);
    default:
        return FAST_UNKNOWN;
    }
}

/* -- profile signatures (profiles.VI/DE/EN.signature, matched at the start) ---------------- */

/* \s+ at k, then the position after it (0: no whitespace there) */
static Py_ssize_t spaces_after(const txt *t, Py_ssize_t k)
{
    if (!re_space(at(t, k)))
        return 0;
    while (re_space(at(t, k)))
        k++;
    return k;
}

static const Py_UCS4 W_THU[] = {'t', 'h', 0x1ee9, 0};

/* ^(?:Điều\s+\d|Chương\s+[IVXLCDM\d]|Mục\s+\d|Phần\s+thứ) */
static int vi_signature(const txt *t)
{
    Py_ssize_t k;
    if (starts_with(t, 0, W_DIEU) && (k = spaces_after(t, 4)))
        return re_digit(at(t, k));
    if (starts_with(t, 0, W_CHUONG) && (k = spaces_after(t, 6))) {
        Py_UCS4 c = at(t, k);
        return re_digit(c) || (c != 0 && c < 128 && strchr("IVXLCDM", (int)c) != NULL);
    }
    if (starts_with(t, 0, W_MUC) && (k = spaces_after(t, 3)))
        return re_digit(at(t, k));
    if (starts_with(t, 0, W_PHAN) && (k = spaces_after(t, 4)))
        return starts_with(t, k, W_THU);
    return 0;
}

/* §\s*\d from k */
static int de_section_sign(const txt *t, Py_ssize_t k)
{
    if (at(t, k) != 0xa7)
        return 0;
    k++;
    while (re_space(at(t, k)))
        k++;
    return re_digit(at(t, k));
}

static const Py_UCS4 W_ABSCHNITT[] = {'A', 'b', 's', 'c', 'h', 'n', 'i', 't', 't', 0};

static const Py_UCS4 W_ART[] = {'A', 'r', 't', 0};

/* (?:\(\S+\)\s*)?§\s*\d|\S*\s*Abschnitt\b|(?:Art\.?|Artikel)\s*\d (after the lead-in) */
static int de_signature(const txt *t)
{
    if (starts_with(t, 0, W_ART)) {
        Py_ssize_t k = 3;
        if (at(t, 3) == 'i' && at(t, 4) == 'k' && at(t, 5) == 'e' && at(t, 6) == 'l')
            k = 7;
        else if (at(t, 3) == '.')
            k = 4;
        while (re_space(at(t, k)))
            k++;
        if (re_digit(at(t, k)))
            return 1; /* no other way matches: "Artikel" fails "Art\.?\s*\d" at its "i" */
    }
    Py_ssize_t r = 0;
    while (r < t->n && !re_space(at(t, r)))
        r++; /* the first run of non-blanks is t[0:r] */
    if (at(t, 0) == '(') {
        for (Py_ssize_t p = 2; p < r; p++) {
            if (at(t, p) != ')')
                continue;
            Py_ssize_t q = p + 1;
            while (re_space(at(t, q)))
                q++;
            if (de_section_sign(t, q))
                return 1;
        }
    }
    if (de_section_sign(t, 0))
        return 1;
    /* "Abschnitt" inside the first run of non-blanks, or right after the blanks that
     * follow it; then a word boundary */
    Py_ssize_t q = r;
    while (re_space(at(t, q)))
        q++;
    for (Py_ssize_t j = 0; j <= r; j++) {
        Py_ssize_t s = j == r ? q : j;
        if (starts_with(t, s, W_ABSCHNITT) && not_word(t, s + 9))
            return 1;
    }
    return 0;
}

/* ^(?i:article|section|chapter|part|amendment)\.?\s+[\dIVXLC] */
static int en_signature(const txt *t)
{
    static const char *words[] = {"article", "section", "chapter", "part", "amendment"};
    for (int w = 0; w < 5; w++) {
        if (!starts_with_ci(t, words[w]))
            continue;
        Py_ssize_t k = (Py_ssize_t)strlen(words[w]);
        if (at(t, k) == '.')
            k++;
        if (!(k = spaces_after(t, k)))
            return 0;
        /* [\dIVXLC] is outside the (?i:...) group: upper case only */
        Py_UCS4 c = at(t, k);
        return re_digit(c) || (c != 0 && c < 128 && strchr("IVXLC", (int)c) != NULL);
    }
    return 0;
}

int iu_signature(int profile, int kind, const void *data, Py_ssize_t n)
{
    /* ^[*_ \t]* : a bold or italic lead-in is evidence too (see profiles.LEAD_IN) */
    Py_ssize_t k0 = 0;
    while (k0 < n) {
        Py_UCS4 c = PyUnicode_READ(kind, data, k0);
        if (c != '*' && c != '_' && c != ' ' && c != '\t')
            break;
        k0++;
    }
    txt t = {kind, (const char *)data + k0 * kind, n - k0};
    switch (profile) {
    case FAST_VI:
        return vi_signature(&t);
    case FAST_DE:
        return de_signature(&t);
    case FAST_EN:
        return en_signature(&t);
    default:
        return 0;
    }
}
