/*
 * audit_report.c - the audit's CSV and HTML reports (audit.h).
 *
 * audit-photos.csv gets a line per code as each photo comes; the HTML
 * photo table is written to an unnamed temporary file meanwhile, and at
 * the end audit.html is put together: totals, the rows, then the photo
 * table copied in. So 10,000 photos need no more memory than 10.
 *
 * The HTML loads nothing: a Content-Security-Policy of default-src
 * 'none' (images from data: URIs, the inline style and sorting script
 * only) makes sure of it. Payloads are untrusted (a sticker's code can
 * say anything): they are escaped, never made into links.
 */
#include "audit.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct qp_audit_report {
	char *dir;
	qp_outfile photos_csv;
	bool csv_open;
	FILE *body; /* the HTML photo table, until close */
	qp_buf line;
};

/* ---- escaping -------------------------------------------------------- */

/* A CSV field (RFC 4180). A text field that a spreadsheet would run as
 * a formula (= + - @ first, from a sticker's payload) gets a leading
 * apostrophe, the usual defence; numbers are written as they are. */
static void
csv_text(qp_buf *b, const char *s, bool last)
{
	bool formula = *s == '=' || *s == '+' || *s == '-' || *s == '@' ||
	    *s == '\t' || *s == '\r';
	bool q = formula || strpbrk(s, ",\"\r\n") != NULL || (*s &&
	    (s[0] == ' ' || s[strlen(s) - 1] == ' '));

	if (q) {
		qp_buf_addc(b, '"');
		if (formula)
			qp_buf_addc(b, '\'');
		for (; *s; s++) {
			if (*s == '"')
				qp_buf_addc(b, '"');
			qp_buf_addc(b, *s);
		}
		qp_buf_addc(b, '"');
	} else
		qp_buf_adds(b, s);
	qp_buf_addc(b, last ? '\n' : ',');
}

static void
csv_num(qp_buf *b, int decimals, double v, bool have)
{
	if (have)
		qp_buf_printf(b, "%.*f", decimals, v);
	qp_buf_addc(b, ',');
}

/* Text into HTML: control and direction characters made visible first
 * (qp_visible), then the markup characters escaped. */
static void
html_text(qp_buf *b, const char *s)
{
	qp_buf v;

	qp_buf_init(&v);
	qp_visible(s, &v);
	for (const char *p = v.data; p && *p; p++)
		switch (*p) {
		case '&': qp_buf_adds(b, "&amp;"); break;
		case '<': qp_buf_adds(b, "&lt;"); break;
		case '>': qp_buf_adds(b, "&gt;"); break;
		case '"': qp_buf_adds(b, "&quot;"); break;
		case '\'': qp_buf_adds(b, "&#39;"); break;
		default: qp_buf_addc(b, *p);
		}
	qp_buf_free(&v);
}

/* CSS class of a code's or photo's status. */
static const char *
kind_class(qp_audit_kind k)
{
	static const char *const c[] = {"ok", "wrong", "foreign",
	    "unreadable", "bad"};

	return (unsigned)k < QP_AUDIT_NKINDS ? c[k] : "bad";
}

/* Sort keys: the most urgent first. */
static int
kind_sev(qp_audit_kind k)
{
	static const int s[] = {5, 1, 0, 4, 3};

	return (unsigned)k < QP_AUDIT_NKINDS ? s[k] : 9;
}

static int
row_sev(qp_row_status s)
{
	static const int v[] = {2, 1, 0};

	return (unsigned)s < QP_ROW_NSTATUS ? v[s] : 9;
}

/* ---- open, per photo ------------------------------------------------- */

static char *
report_path(const qp_audit_report *r, const char *name)
{
	return qp_xasprintf("%s/%s", r->dir, name);
}

qp_audit_report *
qp_audit_report_open(const char *dir, qp_error *err)
{
	qp_audit_report *r = qp_xcalloc(1, sizeof *r);
	char *path;
	static const char *const cols[] = {"photo", "format", "width",
	    "height", "time", "lat", "lon", "photo_status", "status",
	    "payload", "domain", "row", "code", "distance_m", "placement",
	    "module_px", "taken_m", "readers", "corners", "reason"};
	size_t ncols = sizeof cols / sizeof cols[0];

	r->dir = qp_xstrdup(dir);
	qp_buf_init(&r->line);
	path = report_path(r, "audit-photos.csv");
	if (!qp_check_output_dir(path, err) ||
	    !qp_outfile_open(&r->photos_csv, path, err)) {
		free(path);
		qp_audit_report_abort(r);
		return NULL;
	}
	free(path);
	r->csv_open = true;
	r->body = tmpfile();
	if (r->body == NULL) {
		qp_fail(err, "cannot create a temporary file for the report");
		qp_audit_report_abort(r);
		return NULL;
	}
	for (size_t i = 0; i < ncols; i++)
		csv_text(&r->line, cols[i], i + 1 == ncols);
	qp_outfile_write(&r->photos_csv, r->line.data, r->line.len);
	return r;
}

static void
readers_name(unsigned rd, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s", rd & QP_READ_ZBAR ? "zbar" : "",
	    (rd & QP_READ_ZBAR) && (rd & QP_READ_ZXING) ? "+" : "",
	    rd & QP_READ_ZXING ? "zxing" : "");
}

static void
photo_csv(qp_audit_report *r, const qp_audit *a, const qp_audit_photo *p)
{
	qp_buf *b = &r->line;

	for (size_t i = 0; i < p->ncodes; i++) {
		const qp_audit_code *c = &p->codes[i];
		const qp_audit_row *row = c->row >= 0 ?
		    qp_audit_row_at(a, (size_t)c->row) : NULL;
		char rd[16], num[32] = "";

		qp_buf_reset(b);
		csv_text(b, p->path, false);
		csv_text(b, p->format ? p->format : "", false);
		csv_num(b, 0, p->width, p->width > 0);
		csv_num(b, 0, p->height, p->height > 0);
		csv_text(b, p->has_time ? p->time : "", false);
		csv_num(b, 6, p->lat, p->has_gps);
		csv_num(b, 6, p->lon, p->has_gps);
		csv_text(b, qp_audit_kind_name(p->status), false);
		csv_text(b, qp_audit_kind_name(c->kind), false);
		csv_text(b, c->payload ? c->payload : "", false);
		csv_text(b, c->domain, false);
		if (row)
			snprintf(num, sizeof num, "%ld", row->row);
		csv_text(b, num, false);
		csv_text(b, row ? row->code : "", false);
		csv_num(b, 0, c->distance_m, c->distance_m >= 0);
		csv_text(b, qp_audit_place_name(c->place), false);
		csv_num(b, 2, c->module_px, c->module_px > 0);
		csv_num(b, 1, c->taken_m, c->taken_m > 0);
		readers_name(c->readers, rd, sizeof rd);
		csv_text(b, rd, false);
		if (c->has_quad)
			for (int k = 0; k < 8; k++)
				qp_buf_printf(b, "%s%.0f", k ? " " : "",
				    c->quad[k]);
		qp_buf_addc(b, ',');
		csv_text(b, c->why ? c->why : "", true);
		qp_outfile_write(&r->photos_csv, b->data, b->len);
	}
}

static void
photo_html(qp_audit_report *r, const qp_audit_photo *p)
{
	qp_buf b;

	qp_buf_init(&b);
	qp_buf_printf(&b, "<tr><td data-k=\"%d\"><span class=\"st %s\">",
	    kind_sev(p->status), kind_class(p->status));
	html_text(&b, qp_audit_kind_name(p->status));
	qp_buf_adds(&b, "</span></td><td class=\"path\">");
	html_text(&b, p->path);
	if (p->has_time || p->has_gps) {
		qp_buf_adds(&b, "<div class=\"meta\">");
		if (p->has_time)
			html_text(&b, p->time);
		if (p->has_gps)
			qp_buf_printf(&b, "%s%.5f, %.5f", p->has_time ?
			    " &middot; " : "", p->lat, p->lon);
		qp_buf_adds(&b, "</div>");
	}
	qp_buf_adds(&b, "</td><td><ol>");
	for (size_t i = 0; i < p->ncodes; i++) {
		const qp_audit_code *c = &p->codes[i];

		qp_buf_printf(&b, "<li class=\"%s\"><b>", kind_class(c->kind));
		html_text(&b, qp_audit_kind_name(c->kind));
		qp_buf_adds(&b, "</b>");
		if (c->payload) {
			qp_buf_adds(&b, " <code>");
			html_text(&b, c->payload);
			qp_buf_adds(&b, "</code>");
		}
		qp_buf_adds(&b, "<br>");
		html_text(&b, c->why ? c->why : "");
		qp_buf_adds(&b, "</li>");
	}
	qp_buf_adds(&b, "</ol></td><td>");
	if (p->thumb) {
		gchar *b64 = g_base64_encode(p->thumb, p->thumb_len);
		double s = p->width > 0 ? (double)p->thumb_w / p->width : 1;

		qp_buf_printf(&b, "<svg class=\"thumb\" width=\"%d\" "
		    "height=\"%d\" viewBox=\"0 0 %d %d\"><image width=\"%d\" "
		    "height=\"%d\" href=\"data:image/jpeg;base64,%s\"/>",
		    p->thumb_w, p->thumb_h, p->thumb_w, p->thumb_h, p->thumb_w,
		    p->thumb_h, b64);
		g_free(b64);
		for (size_t i = 0; i < p->ncodes; i++) {
			const qp_audit_code *c = &p->codes[i];

			if (!c->has_quad)
				continue;
			qp_buf_printf(&b, "<polygon class=\"q %s\" points=\"",
			    kind_class(c->kind));
			for (int k = 0; k < 4; k++)
				qp_buf_printf(&b, "%s%.1f,%.1f", k ? " " : "",
				    c->quad[2 * k] * s, c->quad[2 * k + 1] * s);
			qp_buf_printf(&b, "\"/><text x=\"%.1f\" y=\"%.1f\">"
			    "%zu</text>", c->quad[0] * s, c->quad[1] * s - 3,
			    i + 1);
		}
		qp_buf_adds(&b, "</svg>");
	}
	qp_buf_adds(&b, "</td></tr>\n");
	fwrite(b.data, 1, b.len, r->body);
	qp_buf_free(&b);
}

bool
qp_audit_report_photo(qp_audit_report *r, const qp_audit *a,
    const qp_audit_photo *p, qp_error *err)
{
	photo_csv(r, a, p);
	photo_html(r, p);
	if (ferror(r->body))
		return qp_fail(err, "cannot write the report's temporary "
		    "file (disk full?)");
	return true;
}

/* ---- close ----------------------------------------------------------- */

static bool
write_rows_csv(qp_audit_report *r, const qp_audit *a, qp_error *err)
{
	char *path = report_path(r, "audit-rows.csv");
	qp_outfile of;
	qp_buf *b = &r->line;
	static const char *const cols[] = {"row", "line", "code", "name",
	    "payload", "lat", "lon", "status", "ok_photos", "foreign",
	    "wrong_place", "first_ok_photo", "foreign_seen", "manifest"};
	size_t ncols = sizeof cols / sizeof cols[0];
	bool ok;

	ok = qp_outfile_open(&of, path, err);
	free(path);
	if (!ok)
		return false;
	qp_buf_reset(b);
	for (size_t i = 0; i < ncols; i++)
		csv_text(b, cols[i], i + 1 == ncols);
	qp_outfile_write(&of, b->data, b->len);
	for (size_t i = 0; i < qp_audit_nrows(a); i++) {
		const qp_audit_row *w = qp_audit_row_at(a, i);
		char n[32];

		qp_buf_reset(b);
		qp_buf_printf(b, "%ld,%ld,", w->row, w->line);
		csv_text(b, w->code, false);
		csv_text(b, w->name ? w->name : "", false);
		csv_text(b, w->payload, false);
		csv_num(b, 6, w->lat, w->has_loc);
		csv_num(b, 6, w->lon, w->has_loc);
		csv_text(b, qp_row_status_name(qp_audit_row_status(w)), false);
		snprintf(n, sizeof n, "%zu,%zu,%zu,", w->ok, w->foreign,
		    w->wrong_place);
		qp_buf_adds(b, n);
		csv_text(b, w->first_ok ? w->first_ok : "", false);
		csv_text(b, w->foreign_at ? w->foreign_at : "", false);
		csv_text(b, w->manifest, true);
		qp_outfile_write(&of, b->data, b->len);
	}
	return qp_outfile_commit(&of, err);
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
    "'none'; img-src data:; style-src 'unsafe-inline'; script-src "
    "'unsafe-inline'\">\n"
    "<meta name=\"viewport\" content=\"width=device-width\">\n"
    "<title>Field audit - qrposter</title>\n<style>\n"
    "body{font:15px/1.4 system-ui,sans-serif;margin:1.5em;color:#1a1a1a}\n"
    "h1{margin:0 0 .3em}table{border-collapse:collapse;margin:.5em 0 2em}\n"
    "th,td{border-bottom:1px solid #ddd;padding:.35em .6em;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#f2f2f2;cursor:pointer;user-select:none}"
    "th::after{content:' \\2195';color:#999}\n"
    ".totals{display:flex;flex-wrap:wrap;gap:.6em;margin:.6em 0 1.4em}\n"
    ".tot{border-radius:6px;padding:.5em .9em;min-width:7em;background:#eee}"
    "\n.tot b{display:block;font-size:1.8em}\n"
    ".ok,.installed{background:#d8f0dc}.wrong,.missing{background:#ffe7c2}"
    "\n.foreign,.conflict{background:#ffd0d0}.unreadable{background:#e6e6e6}"
    "\n.bad{background:#e8dcf5}\n"
    "li{margin:.2em 0;padding:.2em .4em;border-radius:4px;list-style-"
    "position:inside}ol{margin:0;padding:0}\n"
    ".st{padding:.15em .5em;border-radius:4px;white-space:nowrap}\n"
    "code{word-break:break-all}.path{word-break:break-all;max-width:18em}\n"
    ".meta{color:#666;font-size:.85em}\n"
    "svg.thumb .q{fill:none;stroke-width:3}svg.thumb text{font:bold 13px "
    "sans-serif;fill:#fff;stroke:#000;stroke-width:.6px}\n"
    ".q.ok{stroke:#0a0}.q.wrong{stroke:#f80}.q.foreign{stroke:#e00}"
    ".q.unreadable{stroke:#09f;stroke-dasharray:6 4}.q.bad{stroke:#90c}\n"
    "</style></head><body>\n<h1>Field audit</h1>\n";

/* Sort a table by a column: cells with data-k sort by it (status:
 * the most urgent first), others as numbers when they are, else text. */
static const char html_script[] =
    "<script>\n"
    "function qpSort(th){var t=th.closest('table'),b=t.tBodies[0],"
    "i=th.cellIndex,d=th.dataset.dir==='1'?-1:1;th.dataset.dir=d===1?'1':"
    "'-1';\n"
    "var k=function(r){var c=r.cells[i];if(c.dataset.k!==undefined)return "
    "+c.dataset.k;var s=c.textContent.trim(),n=parseFloat(s);return "
    "isNaN(n)||!/^[-\\d.]/.test(s)?s.toLowerCase():n;};\n"
    "var rs=Array.prototype.slice.call(b.rows);rs.sort(function(x,y){var "
    "a=k(x),c=k(y);return (a<c?-1:a>c?1:0)*d;});\n"
    "rs.forEach(function(r){b.appendChild(r);});}\n"
    "document.querySelectorAll('th').forEach(function(th){th.addEventListener("
    "'click',function(){qpSort(th);});});\n"
    "document.querySelectorAll('table.sortable').forEach(function(t){qpSort("
    "t.tHead.rows[0].cells[0]);});\n"
    "</script>\n";

static void
tot(qp_buf *b, const char *cls, size_t n, const char *what)
{
	qp_buf_printf(b, "<div class=\"tot %s\"><b>%zu</b>%s</div>", cls, n,
	    what);
}

static void
html_rows(qp_buf *b, const qp_audit *a)
{
	qp_buf_adds(b, "<h2>Locations</h2>\n<table class=\"sortable\" "
	    "id=\"rows\"><thead><tr><th>status</th><th>row</th><th>code</th>"
	    "<th>name</th><th>ok photos</th><th>foreign codes</th><th>wrong "
	    "place</th><th>evidence</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < qp_audit_nrows(a); i++) {
		const qp_audit_row *w = qp_audit_row_at(a, i);
		qp_row_status s = qp_audit_row_status(w);

		qp_buf_printf(b, "<tr><td data-k=\"%d\"><span class=\"st %s\">"
		    "%s</span></td><td>%ld</td><td>", row_sev(s),
		    qp_row_status_name(s), qp_row_status_name(s), w->row);
		html_text(b, w->code);
		qp_buf_adds(b, "</td><td>");
		html_text(b, w->name ? w->name : "");
		qp_buf_printf(b, "</td><td>%zu</td><td>%zu</td><td>%zu</td>"
		    "<td class=\"path\">", w->ok, w->foreign, w->wrong_place);
		if (w->foreign_at) {
			qp_buf_adds(b, "foreign: ");
			html_text(b, w->foreign_at);
			if (w->first_ok)
				qp_buf_adds(b, "<br>");
		}
		if (w->first_ok)
			html_text(b, w->first_ok);
		qp_buf_adds(b, "</td></tr>\n");
	}
	qp_buf_adds(b, "</tbody></table>\n");
}

bool
qp_audit_report_close(qp_audit_report *r, const qp_audit *a, qp_error *err)
{
	qp_audit_totals t;
	qp_outfile of;
	qp_buf b;
	char *path, chunk[65536];
	size_t n;
	bool ok;

	if (!qp_outfile_commit(&r->photos_csv, err)) {
		r->csv_open = false;
		qp_audit_report_abort(r);
		return false;
	}
	r->csv_open = false;
	if (!write_rows_csv(r, a, err)) {
		qp_audit_report_abort(r);
		return false;
	}
	qp_audit_get_totals(a, &t);
	qp_buf_init(&b);
	qp_buf_adds(&b, html_head);
	qp_buf_printf(&b, "<p>%zu locations, %zu photos.", t.rows, t.photos);
	if (t.not_printed)
		qp_buf_printf(&b, " %zu manifest rows were not printed "
		    "(status other than ok) and are not counted.",
		    t.not_printed);
	if (t.no_location)
		qp_buf_printf(&b, " %zu locations have no coordinates: their "
		    "photos are not checked for place.", t.no_location);
	qp_buf_adds(&b, "</p>\n<div class=\"totals\" id=\"row-totals\">");
	tot(&b, "installed", t.by_row[QP_ROW_INSTALLED], "installed");
	tot(&b, "missing", t.by_row[QP_ROW_MISSING], "missing");
	tot(&b, "conflict", t.by_row[QP_ROW_CONFLICT], "conflict");
	qp_buf_adds(&b, "</div>\n<div class=\"totals\" id=\"photo-totals\">");
	for (int k = 0; k < QP_AUDIT_NKINDS; k++) {
		static const qp_audit_kind order[] = {QP_AUDIT_FOREIGN,
		    QP_AUDIT_WRONG_PLACE, QP_AUDIT_BAD_FILE,
		    QP_AUDIT_UNREADABLE, QP_AUDIT_OK};
		char what[64];

		snprintf(what, sizeof what, "photos: %s",
		    qp_audit_kind_name(order[k]));
		tot(&b, kind_class(order[k]), t.by_kind[order[k]], what);
	}
	qp_buf_adds(&b, "</div>\n<p class=\"meta\">Click a column heading to "
	    "sort; the most urgent come first.</p>\n");
	html_rows(&b, a);
	qp_buf_adds(&b, "<h2>Photos</h2>\n<table class=\"sortable\" "
	    "id=\"photos\"><thead><tr><th>status</th><th>photo</th>"
	    "<th>codes found</th><th>picture</th></tr></thead><tbody>\n");
	path = report_path(r, "audit.html");
	ok = qp_outfile_open(&of, path, err);
	free(path);
	if (!ok) {
		qp_buf_free(&b);
		qp_audit_report_abort(r);
		return false;
	}
	qp_outfile_write(&of, b.data, b.len);
	rewind(r->body);
	while ((n = fread(chunk, 1, sizeof chunk, r->body)) > 0)
		qp_outfile_write(&of, chunk, n);
	qp_buf_reset(&b);
	qp_buf_adds(&b, "</tbody></table>\n");
	qp_buf_adds(&b, html_script);
	qp_buf_adds(&b, "</body></html>\n");
	qp_outfile_write(&of, b.data, b.len);
	qp_buf_free(&b);
	if (ferror(r->body)) {
		qp_outfile_abort(&of);
		qp_audit_report_abort(r);
		return qp_fail(err, "cannot read the report's temporary file");
	}
	ok = qp_outfile_commit(&of, err);
	qp_audit_report_abort(r);
	return ok;
}

void
qp_audit_report_abort(qp_audit_report *r)
{
	if (r == NULL)
		return;
	if (r->csv_open)
		qp_outfile_abort(&r->photos_csv);
	if (r->body)
		fclose(r->body);
	qp_buf_free(&r->line);
	free(r->dir);
	free(r);
}
