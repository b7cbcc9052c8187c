/*
 * qrfind.c - QR codes located by their finder patterns (qrfind.h).
 *
 * 1. A threshold per 16-pixel block: the mean of the 5 x 5 blocks around
 *    it, where they hold enough contrast to be print (else nothing there
 *    counts as dark: a bare wall's sensor noise makes no patterns).
 * 2. Every row is cut into dark and light runs; five runs in the ratio
 *    1:1:3:1:1 are a finder pattern candidate, confirmed by the same
 *    ratio down the column through its centre.
 * 3. Candidates seen on several rows are merged; three of them with the
 *    same module size at the corners of a right isosceles triangle (within
 *    the slack a photo's perspective needs) are a code.
 */
#include "qrfind.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define BLOCK 16
#define MIN_CONTRAST 40
#define MAX_CANDS 65536
#define MAX_TRIPLES 100000
/* Below this many pixels a module, finders are found by grey profiles. */
#define PROFILE_MAX 3.5

typedef struct cand {
	double x, y, m;
	int hits;
	bool used;
} cand;

typedef struct img {
	const unsigned char *g;
	int w, h, bw, bh;
	short *thr; /* per block; -1: nothing dark here */
	short *con; /* contrast around the block */
} img;

static void
thresholds(img *im)
{
	int bw = im->bw, bh = im->bh;
	double *mean = qp_xcalloc((size_t)bw * bh, sizeof *mean);
	int *lo = qp_xmalloc((size_t)bw * bh * sizeof *lo);
	int *hi = qp_xmalloc((size_t)bw * bh * sizeof *hi);

	for (int i = 0; i < bw * bh; i++) {
		lo[i] = 255;
		hi[i] = 0;
	}
	for (int y = 0; y < im->h; y++) {
		const unsigned char *row = im->g + (size_t)y * im->w;
		for (int x = 0; x < im->w; x++) {
			int b = (y / BLOCK) * bw + x / BLOCK;
			mean[b] += row[x];
			if (row[x] < lo[b])
				lo[b] = row[x];
			if (row[x] > hi[b])
				hi[b] = row[x];
		}
	}
	for (int by = 0; by < bh; by++)
		for (int bx = 0; bx < bw; bx++) {
			int bwid = bx == bw - 1 ? im->w - bx * BLOCK : BLOCK;
			int bhei = by == bh - 1 ? im->h - by * BLOCK : BLOCK;
			mean[by * bw + bx] /= (double)bwid * bhei;
		}
	im->thr = qp_xmalloc((size_t)bw * bh * sizeof *im->thr);
	im->con = qp_xmalloc((size_t)bw * bh * sizeof *im->con);
	for (int by = 0; by < bh; by++)
		for (int bx = 0; bx < bw; bx++) {
			double s = 0;
			int n = 0, l = 255, u = 0;

			for (int dy = -2; dy <= 2; dy++)
				for (int dx = -2; dx <= 2; dx++) {
					int yy = by + dy, xx = bx + dx;
					if (yy < 0 || yy >= bh || xx < 0 ||
					    xx >= bw)
						continue;
					s += mean[yy * bw + xx];
					n++;
					if (lo[yy * bw + xx] < l)
						l = lo[yy * bw + xx];
					if (hi[yy * bw + xx] > u)
						u = hi[yy * bw + xx];
				}
			/* Between the local mean and the midpoint of the
			 * extremes: robust to a code that fills the window. */
			im->thr[by * bw + bx] = (short)(u - l < MIN_CONTRAST ?
			    -1 : (s / n + (l + u) / 2.0) / 2);
			im->con[by * bw + bx] = (short)(u - l);
		}
	free(mean);
	free(lo);
	free(hi);
}

static bool
dark(const img *im, int x, int y)
{
	return im->g[(size_t)y * im->w + x] < im->thr[(y / BLOCK) * im->bw +
	    x / BLOCK];
}

/* Runs r[0..4] in the ratio 1:1:3:1:1, modules of at least minm. */
static bool
ratio_ok(const int *r, double minm, double *module)
{
	int t = r[0] + r[1] + r[2] + r[3] + r[4];
	double m = t / 7.0, tol = fmax(m * 0.6, 1.0);

	if (m < minm)
		return false;
	for (int i = 0; i < 5; i++) {
		double want = i == 2 ? 3 * m : m;

		if (r[i] < 1)
			return false;
		if (fabs(r[i] - want) > (i == 2 ? fmax(tol * 1.5, 1.5) : tol))
			return false;
	}
	*module = m;
	return true;
}

/* Length of the run of colour d from (x, y) stepping dy, at most lim. */
static int
run_v(const img *im, int x, int y, int dy, bool d, int lim)
{
	int n = 0;

	while (y >= 0 && y < im->h && n < lim && dark(im, x, y) == d) {
		n++;
		y += dy;
	}
	return n;
}

/* The finder through (x, y) read down its column: its centre row and
 * module size, or false. */
static bool
check_vertical(const img *im, int x, int y, double mh, double minm,
    double *cy, double *mv)
{
	int lim = (int)(mh * 6 + 4), r[5];
	int up, down, y0, y1;

	if (!dark(im, x, y))
		return false;
	up = run_v(im, x, y, -1, true, lim);
	down = run_v(im, x, y + 1, 1, true, lim);
	r[2] = up + down;
	y0 = y - up;
	y1 = y + down + 1;
	r[1] = run_v(im, x, y0, -1, false, lim);
	r[0] = run_v(im, x, y0 - r[1], -1, true, lim);
	r[3] = run_v(im, x, y1, 1, false, lim);
	r[4] = run_v(im, x, y1 + r[3], 1, true, lim);
	if (!ratio_ok(r, minm, mv) || *mv > mh * 2 || *mv < mh / 2)
		return false;
	*cy = y0 + r[2] / 2.0;
	return true;
}

static void
add_cand(cand *c, size_t *n, double x, double y, double m)
{
	/* Candidates come in row order: only recent ones can be this one. */
	for (size_t i = *n; i-- > 0;) {
		cand *o = &c[i];

		if (o->y < y - 40)
			break;
		if (fabs(o->x - x) < 2 * o->m + 1 && fabs(o->y - y) < 2 * o->m +
		    1 && m < o->m * 1.6 && m > o->m / 1.6) {
			o->x = (o->x * o->hits + x) / (o->hits + 1);
			o->y = (o->y * o->hits + y) / (o->hits + 1);
			o->m = (o->m * o->hits + m) / (o->hits + 1);
			o->hits++;
			return;
		}
	}
	if (*n < MAX_CANDS) {
		c[*n] = (cand){x, y, m, 1, false};
		(*n)++;
	}
}

static void
scan_rows(const img *im, double minm, cand *c, size_t *nc)
{
	for (int y = 0; y < im->h; y++) {
		int r[5] = {0}, nr = 0, cur = 0;
		bool d = false;

		for (int x = 0; x <= im->w; x++) {
			bool px = x < im->w && dark(im, x, y);

			if (x < im->w && px == d) {
				cur++;
				continue;
			}
			/* A run of colour d, cur long, ends at x. */
			if (nr == 5) {
				memmove(r, r + 1, 4 * sizeof *r);
				nr = 4;
			}
			r[nr++] = cur;
			if (d && nr == 5) {
				double mh, mv, cy;
				int cx = x - r[4] - r[3] - (r[2] + 1) / 2;

				if (ratio_ok(r, minm, &mh) && check_vertical(im,
				    cx, y, mh, minm, &cy, &mv))
					add_cand(c, nc, x - r[4] - r[3] -
					    r[2] / 2.0, cy, (mh + mv) / 2);
			}
			d = px;
			cur = 1;
		}
	}
}

/* Grey at (x, y), bilinear; -1 outside. */
static double
grey_at(const img *im, double x, double y)
{
	int x0, y0;
	double fx, fy;
	const unsigned char *p;

	if (x < 0 || y < 0 || x > im->w - 1.001 || y > im->h - 1.001)
		return -1;
	x0 = (int)x;
	y0 = (int)y;
	fx = x - x0;
	fy = y - y0;
	p = im->g + (size_t)y0 * im->w + x0;
	return (p[0] * (1 - fx) + p[1] * fx) * (1 - fy) + (p[im->w] * (1 -
	    fx) + p[im->w + 1] * fx) * fy;
}

static int
at(const img *im, int x, int y, double d, int dx, int dy)
{
	double v = grey_at(im, x + d * dx, y + d * dy);

	return v < 0 ? -1 : (int)lround(v);
}

/* How clearly a finder of module m is centred on (x, y) along (dx, dy):
 * the centre (3 modules) well darker than the light ring at 2 modules
 * (by need_c), the dark ring at 3 modules darker than it too (by
 * need_r: blur leaves a thin ring little contrast), on both sides.
 * Returns the ring's margin (grey levels), negative if not a finder. */
static int
profile(const img *im, int x, int y, double m, int dx, int dy, int need_c,
    int need_r)
{
	int c0 = at(im, x, y, 0, dx, dy), c1 = at(im, x, y, -m, dx, dy);
	int c2 = at(im, x, y, m, dx, dy);
	int l1 = at(im, x, y, -2 * m, dx, dy), l2 = at(im, x, y, 2 * m, dx, dy);
	int d1 = at(im, x, y, -3 * m, dx, dy), d2 = at(im, x, y, 3 * m, dx, dy);
	int light, centre, ring;

	if (c0 < 0 || c1 < 0 || c2 < 0 || l1 < 0 || l2 < 0 || d1 < 0 ||
	    d2 < 0)
		return -1;
	light = l1 < l2 ? l1 : l2;
	centre = c0 > c1 ? c0 : c1;
	centre = centre > c2 ? centre : c2;
	ring = d1 > d2 ? d1 : d2;
	if (light - centre < need_c || light - ring < need_r)
		return -1;
	return light - ring;
}

static void
scan_profiles(const img *im, double minm, cand *c, size_t *nc)
{
	for (int y = 0; y < im->h; y++)
		for (int x = 0; x < im->w; x++) {
			int b = (y / BLOCK) * im->bw + x / BLOCK;
			int need_c = im->con[b] / 6;
			int need_r = im->con[b] / 20 > 8 ? im->con[b] / 20 : 8;
			double bm = 0, bmv = 0;
			int best = -1, bestv = -1;

			if (im->thr[b] < 0 || im->g[(size_t)y * im->w + x] >=
			    im->thr[b])
				continue;
			for (double m = minm; m <= PROFILE_MAX; m *= 1.15) {
				int p = profile(im, x, y, m, 1, 0, need_c,
				    need_r);
				if (p > best) {
					best = p;
					bm = m;
				}
			}
			if (best < 0)
				continue;
			/* Down the column: perspective may shorten it. */
			for (double m = bm / 2; m <= bm * 2; m *= 1.15) {
				int p = profile(im, x, y, m, 0, 1, need_c,
				    need_r);
				if (p > bestv) {
					bestv = p;
					bmv = m;
				}
			}
			if (bestv < 0)
				continue;
			add_cand(c, nc, x, y, (bm + bmv) / 2);
		}
}


/* How far a, b, c (b the corner) are from a code's three finders: 0 is
 * perfect; < 0 not a code. */
static double
triple_score(const cand *a, const cand *b, const cand *c, int *modules)
{
	double l1 = hypot(a->x - b->x, a->y - b->y);
	double l2 = hypot(c->x - b->x, c->y - b->y);
	double hy = hypot(a->x - c->x, a->y - c->y);
	double m = (a->m + b->m + c->m) / 3;
	double lo = fmin(a->m, fmin(b->m, c->m));
	double up = fmax(a->m, fmax(b->m, c->m));
	double legs, q, r;

	if (up > lo * 1.5 || l1 < 1 || l2 < 1)
		return -1;
	r = l1 / l2;
	q = hy / hypot(l1, l2);
	if (r < 0.7 || r > 1 / 0.7 || q < 0.85 || q > 1.15)
		return -1;
	legs = (l1 + l2) / 2 / m;
	/* Centres are 14 (version 1) to 170 (version 40) modules apart. */
	if (legs < 11 || legs > 175)
		return -1;
	*modules = (int)lround(legs + 7);
	return fabs(r - 1) + fabs(q - 1);
}

/*
 * How well the timing pattern (modules alternating dark and light along
 * row 6 between two finders) shows between corner b and finder a, with
 * the third finder d giving the inside: the mean grey of the modules
 * that should be light minus that of those that should be dark, over
 * the contrast. n is the modules per side.
 */
static double
timing(const img *im, const cand *b, const cand *a, const cand *d, int n,
    double m)
{
	double ux = a->x - b->x, uy = a->y - b->y;
	double len = hypot(ux, uy), nx = -uy / len, ny = ux / len;
	double light = 0, dark = 0, lo = 255, hi = 0;
	int nl = 0, nd = 0;

	/* The normal pointing towards d. */
	if (nx * (d->x - b->x) + ny * (d->y - b->y) < 0) {
		nx = -nx;
		ny = -ny;
	}
	for (int c = 8; c <= n - 9; c++) {
		double t = (c + 0.5 - 3.5) / (n - 7.0);
		double g = grey_at(im, b->x + t * ux + 3 * m * nx, b->y + t *
		    uy + 3 * m * ny);

		if (g < 0)
			return 0;
		if (c % 2) {
			light += g;
			nl++;
		} else {
			dark += g;
			nd++;
		}
		lo = fmin(lo, g);
		hi = fmax(hi, g);
	}
	if (nl == 0 || nd == 0 || hi - lo < 1)
		return 0;
	return (light / nl - dark / nd) / (hi - lo);
}

/* A possible code: corner j, the other finders i and k. */
typedef struct triple {
	size_t i, j, k;
	int modules;
	double score;
} triple;

static int
by_score(const void *a, const void *b)
{
	const triple *x = a, *y = b;

	return x->score < y->score ? -1 : x->score > y->score;
}

/* The code size nearest the geometry's (17 + 4 x version) whose two
 * timing patterns show best; 0 if none shows. */
static int
timed_size(const img *im, const cand *c, const triple *t)
{
	double bt = 0, m3 = (c[t->i].m + c[t->j].m + c[t->k].m) / 3;
	int bn = 0, n0 = 21 + 4 * (int)lround((t->modules - 21) / 4.0);

	for (int nn = n0 - 4; nn <= n0 + 4; nn += 4) {
		double t1, t2;

		if (nn < 21 || nn > 177)
			continue;
		t1 = timing(im, &c[t->j], &c[t->i], &c[t->k], nn, m3);
		t2 = timing(im, &c[t->j], &c[t->k], &c[t->i], nn, m3);
		if (fmin(t1, t2) > bt) {
			bt = fmin(t1, t2);
			bn = nn;
		}
	}
	return bt >= 0.1 ? bn : 0;
}

/* Light at d modules from finder f, away from the code along (ux, uy)
 * (a unit vector): the quiet zone, where text beside a look-alike is. */
static bool
quiet_at(const img *im, const cand *f, double ux, double uy, double d)
{
	double x = f->x + ux * d * f->m, y = f->y + uy * d * f->m;
	double g = grey_at(im, x, y);
	int b;

	if (g < 0)
		return true; /* off the picture: nothing says otherwise */
	b = ((int)y / BLOCK) * im->bw + (int)x / BLOCK;
	return im->thr[b] < 0 || g >= im->thr[b];
}

/* The quiet zone outside each finder of t shows light. */
static bool
quiet_zone(const img *im, const cand *c, const triple *t)
{
	const cand *a = &c[t->i], *b = &c[t->j], *d = &c[t->k];
	double ax = a->x - b->x, ay = a->y - b->y, la = hypot(ax, ay);
	double dx = d->x - b->x, dy = d->y - b->y, ld = hypot(dx, dy);

	ax /= la;
	ay /= la;
	dx /= ld;
	dy /= ld;
	for (double k = 5; k <= 6.5; k += 1.5)
		if (!quiet_at(im, b, -ax, -ay, k) ||
		    !quiet_at(im, b, -dx, -dy, k) ||
		    !quiet_at(im, a, ax, ay, k) ||
		    !quiet_at(im, a, -dx, -dy, k) ||
		    !quiet_at(im, d, dx, dy, k) ||
		    !quiet_at(im, d, -ax, -ay, k))
			return false;
	return true;
}

static int
by_y(const void *a, const void *b)
{
	const cand *x = a, *y = b;

	return x->y < y->y ? -1 : x->y > y->y;
}

size_t
qp_qrfind_locate(const unsigned char *grey, int w, int h, double min_module,
    qp_qrfind *out, size_t max)
{
	img im = {grey, w, h, (w + BLOCK - 1) / BLOCK, (h + BLOCK - 1) / BLOCK,
	    NULL, NULL};
	cand *c;
	triple *t = NULL;
	size_t nc = 0, nout = 0, nt = 0, capt = 0;

	if (w < 21 || h < 21 || max == 0)
		return 0;
	thresholds(&im);
	c = qp_xmalloc(MAX_CANDS * sizeof *c);
	/* Runs where modules are wide enough to binarise cleanly; grey
	 * profiles below that, where blur leaves the rings only relatively
	 * lighter and darker. */
	scan_rows(&im, fmax(min_module, PROFILE_MAX), c, &nc);
	scan_profiles(&im, min_module, c, &nc);
	/* Triples: corners j, and pairs of candidates within the distance a
	 * code's finders can be apart (c sorted by y bounds the search). */
	qsort(c, nc, sizeof *c, by_y);
	for (size_t j = 0; j < nc; j++) {
		double reach = 180 * c[j].m;
		size_t lo = j, hi = j;

		while (lo > 0 && c[j].y - c[lo - 1].y <= reach)
			lo--;
		while (hi + 1 < nc && c[hi + 1].y - c[j].y <= reach)
			hi++;
		for (size_t i = lo; i <= hi; i++) {
			if (i == j || fabs(c[i].x - c[j].x) > reach)
				continue;
			for (size_t k = i + 1; k <= hi; k++) {
				triple tr = {i, j, k, 0, 0};

				if (k == j || fabs(c[k].x - c[j].x) > reach)
					continue;
				tr.score = triple_score(&c[i], &c[j], &c[k],
				    &tr.modules);
				if (tr.score < 0 || tr.score > 0.5)
					continue;
				/* A page of text makes many; a code is
				 * among the best few thousand. */
				if (nt == MAX_TRIPLES)
					break;
				t = qp_grow(t, &capt, nt + 1, sizeof *t);
				t[nt++] = tr;
			}
		}
	}
	if (nt)
		qsort(t, nt, sizeof *t, by_score);
	for (size_t q = 0; q < nt && nout < max; q++) {
		const cand *a = &c[t[q].i], *b = &c[t[q].j], *d = &c[t[q].k];
		int bm;

		if (a->used || b->used || d->used ||
		    !quiet_zone(&im, c, &t[q]) ||
		    (bm = timed_size(&im, c, &t[q])) == 0)
			continue;
		{
			double ex = a->x + d->x - b->x, ey = a->y + d->y - b->y;
			double cx = (b->x + ex) / 2, cy = (b->y + ey) / 2;
			/* Finder centres are 3.5 modules in from the edge. */
			double f = bm / (bm - 7.0);
			double pts[8] = {b->x, b->y, a->x, a->y, ex, ey, d->x,
			    d->y};
			qp_qrfind *o = &out[nout++];

			for (int p = 0; p < 4; p++) {
				o->quad[2 * p] = cx + (pts[2 * p] - cx) * f;
				o->quad[2 * p + 1] = cy + (pts[2 * p + 1] -
				    cy) * f;
			}
			o->module_px = (a->m + b->m + d->m) / 3;
			o->modules = bm;
		}
		c[t[q].i].used = c[t[q].j].used = c[t[q].k].used = true;
	}
	free(t);
	free(c);
	free(im.thr);
	free(im.con);
	return nout;
}
