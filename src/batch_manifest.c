/*
 * batch_manifest.c - what identifies a run's output (hashes of the
 * inputs and files), the manifest written as rows finish, and the
 * previous run's manifest read back to resume.
 */
#define _GNU_SOURCE
#include "batch_int.h"

/* ---- hashing --------------------------------------------------------- */

static void
hex_digest(GChecksum *c, char out[65])
{
	snprintf(out, 65, "%s", g_checksum_get_string(c));
}

bool
qp_file_sha256(const char *path, char out[65], qp_error *err)
{
	GChecksum *c;
	FILE *fp = fopen(path, "rb");
	unsigned char buf[65536];
	size_t n;
	bool ok;

	if (fp == NULL)
		return qp_fail(err, "cannot read '%s': %s", path,
		    strerror(errno));
	c = g_checksum_new(G_CHECKSUM_SHA256);
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
		g_checksum_update(c, buf, n);
	ok = !ferror(fp);
	fclose(fp);
	if (ok)
		hex_digest(c, out);
	else
		qp_fail(err, "cannot read '%s'", path);
	g_checksum_free(c);
	return ok;
}

/* Everything but the row that decides the bytes of an output. */
bool
bt_make_signature(batch *b, qp_error *err)
{
	const qp_batch_opts *o = b->o;
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
	char tsum[65], buf[512];

	if (!qp_file_sha256(b->t->path, tsum, err)) {
		g_checksum_free(c);
		return false;
	}
	snprintf(buf, sizeof buf, "qrposter %s\ntemplate %s\ndpi %.6f\n"
	    "bleed %.6f\nmarks %d\nimpose %dx%d %.6fx%.6f\nsde %lld\n"
	    "links %d\n", QP_VERSION, tsum, o->render.dpi, o->render.bleed,
	    o->render.marks, o->impose.cols, o->impose.rows, o->impose.sheet_w,
	    o->impose.sheet_h, qp_source_date_epoch(), !o->no_links);
	g_checksum_update(c, (const guchar *)buf, strlen(buf));
	if (o->render.print) {
		/* A print file depends on the press profile's bytes. */
		char psum[65];

		if (!qp_file_sha256(o->render.print->icc_path, psum, err)) {
			g_checksum_free(c);
			return false;
		}
		snprintf(buf, sizeof buf, "print cmyk %s\n", psum);
		g_checksum_update(c, (const guchar *)buf, strlen(buf));
	}
	if (o->profile && o->profile->logo) {
		/* The profile's logo is drawn on every poster; its other
		 * values are each row's (bt_row_key). */
		char lsum[65];

		if (!qp_file_sha256(o->profile->logo, lsum, err)) {
			g_checksum_free(c);
			return false;
		}
		snprintf(buf, sizeof buf, "logo %s\n", lsum);
		g_checksum_update(c, (const guchar *)buf, strlen(buf));
	}
	hex_digest(c, b->sig);
	g_checksum_free(c);
	return true;
}

/* What makes one run: the signature, the whole CSV (every shard reads
 * all of it) and the --set values. The same for a single run and for
 * each of its shards, so merge can tell shards of one run from others. */
bool
bt_make_run_id(batch *b, qp_error *err)
{
	GChecksum *c;
	char dsum[65];

	if (!qp_file_sha256(b->data_path, dsum, err)) {
		qp_error_prefix(err, "%s", b->data_name);
		return false;
	}
	c = g_checksum_new(G_CHECKSUM_SHA256);
	g_checksum_update(c, (const guchar *)"qrposter run\n", 13);
	g_checksum_update(c, (const guchar *)b->sig, 64);
	g_checksum_update(c, (const guchar *)dsum, 64);
	for (size_t i = 0; i < b->o->nsets; i++)
		g_checksum_update(c, (const guchar *)b->o->sets[i],
		    strlen(b->o->sets[i]) + 1);
	hex_digest(c, b->run);
	g_checksum_free(c);
	snprintf(b->shard, sizeof b->shard, "%ld/%ld", b->o->shard_k,
	    b->o->shard_n);
	return true;
}

void
bt_row_key(const batch *b, row *r)
{
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);

	g_checksum_update(c, (const guchar *)b->sig, 64);
	/* A per-row file's name is part of what was made. A combined page's
	 * bytes do not depend on the document's name, so a shard's row has
	 * the key the single run gives it, and merge carries it over. */
	if (b->pattern)
		g_checksum_update(c, (const guchar *)r->file,
		    strlen(r->file) + 1);
	for (size_t i = 0; i < b->t->nvars; i++) {
		const char *v = r->values[i] ? r->values[i] : "";
		g_checksum_update(c, (const guchar *)b->t->var_names[i],
		    strlen(b->t->var_names[i]) + 1);
		g_checksum_update(c, (const guchar *)(r->values[i] ? "=" : "!"),
		    1);
		g_checksum_update(c, (const guchar *)v, strlen(v) + 1);
	}
	hex_digest(c, r->key);
	g_checksum_free(c);
}

/* ---- the manifest ---------------------------------------------------- */


const char *const qp_manifest_cols[QP_MANIFEST_NCOLS] = {"row", "line",
    "code", "file", "page", "payload", "sha256", "status", "inputs_sha256",
    "shard", "run_sha256"};

void
qp_manifest_field(qp_buf *out, const char *s, bool last)
{
	bool q = strpbrk(s, ",\"\r\n") != NULL || (*s && (s[0] == ' ' ||
	    s[strlen(s) - 1] == ' '));

	if (q) {
		qp_buf_addc(out, '"');
		for (; *s; s++) {
			if (*s == '"')
				qp_buf_addc(out, '"');
			qp_buf_addc(out, *s);
		}
		qp_buf_addc(out, '"');
	} else
		qp_buf_adds(out, s);
	qp_buf_adds(out, last ? "\n" : ",");
}


bool
bt_manifest_open(manifest *m, const batch *b, qp_error *err)
{
	memset(m, 0, sizeof *m);
	if (!qp_outfile_open(&m->of, b->manifest_path, err))
		return false;
	m->open = true;
	m->shard = b->shard;
	m->run = b->run;
	qp_buf_init(&m->line);
	for (size_t i = 0; i < QP_MANIFEST_NCOLS; i++)
		qp_manifest_field(&m->line, qp_manifest_cols[i],
		    i + 1 == QP_MANIFEST_NCOLS);
	qp_outfile_write(&m->of, m->line.data, m->line.len);
	m->pos = (long)m->line.len;
	return true;
}

/* fields: the NMCOLS per-row strings. A NULL sha256 is filled in by manifest_close. */
void
bt_manifest_add(manifest *m, const char *const *f)
{
	qp_buf_reset(&m->line);
	for (size_t i = 0; i < NMCOLS; i++) {
		if (i == 6 && f[i] == NULL) {
			m->sha_off = qp_xrealloc(m->sha_off, (m->nsha + 1) *
			    sizeof *m->sha_off);
			m->sha_off[m->nsha++] = m->pos + (long)m->line.len;
			qp_manifest_field(&m->line, "0000000000000000000000000000000"
			    "000000000000000000000000000000000", false);
			continue;
		}
		qp_manifest_field(&m->line, f[i] ? f[i] : "", false);
	}
	qp_manifest_field(&m->line, m->shard, false);
	qp_manifest_field(&m->line, m->run, true);
	qp_outfile_write(&m->of, m->line.data, m->line.len);
	m->pos += (long)m->line.len;
}

bool
bt_manifest_close(manifest *m, const char *sha, qp_error *err)
{
	bool ok = true;

	if (!m->open)
		return true;
	if (m->nsha && sha) {
		for (size_t i = 0; i < m->nsha && ok; i++)
			if (fflush(m->of.fp) != 0 ||
			    fseek(m->of.fp, m->sha_off[i], SEEK_SET) != 0 ||
			    fwrite(sha, 1, 64, m->of.fp) != 64)
				ok = false;
		if (!ok) {
			qp_outfile_abort(&m->of);
			qp_fail(err, "cannot write the manifest");
		}
	}
	if (ok)
		ok = qp_outfile_commit(&m->of, err);
	qp_buf_free(&m->line);
	free(m->sha_off);
	m->open = false;
	return ok;
}

void
bt_manifest_abort(manifest *m)
{
	if (!m->open)
		return;
	qp_outfile_abort(&m->of);
	qp_buf_free(&m->line);
	free(m->sha_off);
	m->open = false;
}

/* The previous run's manifest, read alongside the rows (both are in CSV
 * order) to decide what can be skipped. */

void
bt_old_open(old_manifest *om, const char *path)
{
	qp_error err;

	memset(om, 0, sizeof *om);
	if (access(path, R_OK) != 0 ||
	    (om->d = qp_data_open(path, &err)) == NULL) {
		om->end = true;
		return;
	}
	for (size_t i = 0; i < NMCOLS; i++)
		if ((om->c[i] = qp_data_col_index(om->d,
		    qp_manifest_cols[i])) < 0) {
			om->end = true;
			return;
		}
}

/* The old entry for CSV record index, or NULL. */
const qp_record *
bt_old_find(old_manifest *om, size_t index)
{
	qp_error err;

	while (!om->end) {
		long rn;

		if (!om->have) {
			if (qp_data_next(om->d, &om->rec, &err) != 1) {
				om->end = true;
				break;
			}
			om->have = true;
		}
		if (!qp_parse_int(om->rec.fields[om->c[0]], 1, LONG_MAX,
		    &rn)) {
			om->end = true;
			break;
		}
		if ((size_t)rn - 1 < index) {
			om->have = false;
			continue;
		}
		if ((size_t)rn - 1 == index)
			return &om->rec;
		break;
	}
	return NULL;
}

void
bt_old_close(old_manifest *om)
{
	qp_data_close(om->d);
}

const char *
bt_old_field(const old_manifest *om, const qp_record *r, int i)
{
	return r->fields[om->c[i]];
}

/* ---- a product set's manifest ---------------------------------------- */

/* One product's manifest, read in row order. */
typedef struct part {
	qp_data *d;
	long c[QP_MANIFEST_NCOLS];
	qp_record rec;
	long row;  /* of rec, or LONG_MAX at the end */
	const char *product;
} part;

static void
part_next(part *p)
{
	qp_error err;

	p->row = LONG_MAX;
	if (p->d == NULL || qp_data_next(p->d, &p->rec, &err) != 1)
		return;
	if (!qp_parse_int(p->rec.fields[p->c[0]], 1, LONG_MAX - 1, &p->row))
		p->row = LONG_MAX;
}

bool
bt_manifest_join(const char *path, const char *const *parts,
    const char *const *products, size_t n, qp_error *err)
{
	part *pv = qp_xcalloc(n + 1, sizeof *pv);
	qp_outfile of;
	qp_buf line;
	bool ok = false;

	qp_buf_init(&line);
	for (size_t i = 0; i < n; i++) {
		pv[i].product = products[i];
		pv[i].row = LONG_MAX;
		if (parts[i] == NULL)
			continue; /* that product had no rows */
		if ((pv[i].d = qp_data_open(parts[i], err)) == NULL)
			goto done;
		for (size_t k = 0; k < QP_MANIFEST_NCOLS; k++)
			if ((pv[i].c[k] = qp_data_col_index(pv[i].d,
			    qp_manifest_cols[k])) < 0) {
				qp_fail(err, "%s: no column '%s'", parts[i],
				    qp_manifest_cols[k]);
				goto done;
			}
		part_next(&pv[i]);
	}
	if (!qp_outfile_open(&of, path, err))
		goto done;
	/* The columns of every manifest, then the product: a reader that
	 * looks columns up by name (resume, merge) reads it as one. */
	for (size_t k = 0; k < QP_MANIFEST_NCOLS; k++)
		qp_manifest_field(&line, qp_manifest_cols[k], false);
	qp_manifest_field(&line, "product", true);
	qp_outfile_write(&of, line.data, line.len);
	for (;;) {
		size_t best = n;

		/* By row, and within a row in the products' order. */
		for (size_t i = 0; i < n; i++)
			if (pv[i].row != LONG_MAX &&
			    (best == n || pv[i].row < pv[best].row))
				best = i;
		if (best == n)
			break;
		qp_buf_reset(&line);
		for (size_t k = 0; k < QP_MANIFEST_NCOLS; k++)
			qp_manifest_field(&line,
			    pv[best].rec.fields[pv[best].c[k]], false);
		qp_manifest_field(&line, pv[best].product, true);
		qp_outfile_write(&of, line.data, line.len);
		part_next(&pv[best]);
	}
	ok = qp_outfile_commit(&of, err);
done:
	for (size_t i = 0; i < n; i++)
		qp_data_close(pv[i].d);
	free(pv);
	qp_buf_free(&line);
	return ok;
}
