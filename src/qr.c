/*
 * qr.c - wrap libqrencode: encode, copy the dark bits into a plain matrix,
 * and turn its errno codes into messages that say what to change.
 */
#include "qr.h"

#include <errno.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

static const QRecLevel levels[] = {QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q,
    QR_ECLEVEL_H};

/* Bytes capacity of version 40 in 8-bit mode per level (ISO/IEC 18004). */
static const int max_bytes[] = {2953, 2331, 1663, 1273};

int
qp_qr_capacity(int ecc)
{
	return max_bytes[ecc & 3];
}

int
qp_qr_ecc_parse(const char *s)
{
	static const char names[] = "LMQH";

	if (s && strcmp(s, "auto") == 0)
		return QP_QR_ECC_AUTO;
	if (s == NULL || s[0] == '\0' || s[1] != '\0')
		return -1;
	for (int i = 0; i < 4; i++)
		if (s[0] == names[i] || s[0] == names[i] + ('a' - 'A'))
			return i;
	return -1;
}

double
qp_qr_ecc_recovery(int ecc)
{
	static const double r[] = {0.07, 0.15, 0.25, 0.30};

	return r[ecc & 3];
}

char
qp_qr_ecc_name(int ecc)
{
	return "LMQH"[ecc & 3];
}

static bool
is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

char *
qp_qr_url_normalize(const char *url, qp_error *err)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *host = strstr(url, "://");
	size_t hlen;
	qp_buf b;

	if (host) {
		host += 3;
		hlen = strcspn(host, "/?#");
		for (size_t i = 0; i < hlen; i++)
			if ((unsigned char)host[i] >= 0x80 || host[i] == ' ') {
				qp_fail(err, "the URL's host '%.*s' is not plain "
				    "ASCII; write it in its punycode form "
				    "(xn--...)", (int)hlen, host);
				return NULL;
			}
	}
	qp_buf_init(&b);
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		/* Bytes a URI may not hold (RFC 3986, 3987 section 3.1). */
		if (*p >= 0x80 || *p <= 0x20 || *p == 0x7f ||
		    strchr("\"<>\\^`{|}", *p) != NULL) {
			char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			qp_buf_add(&b, esc, 3);
		} else
			qp_buf_addc(&b, (char)*p);
	}
	return qp_buf_steal(&b);
}

/* One encoding at level ecc in the smallest version >= min_version;
 * NULL with errno set as libqrencode leaves it. */
static QRcode *
encode_at(const char *payload, int min_version, int ecc, bool *eci)
{
	size_t len = strlen(payload);
	QRcode *code = NULL;

	errno = 0;
	*eci = !is_ascii(payload);
	if (*eci) {
		/*
		 * Non-ASCII text: the ECI designator 26 (UTF-8) first, so a
		 * phone does not guess ISO 8859-1 or Shift JIS and show
		 * mojibake; then the bytes in one 8-bit segment.
		 */
		QRinput *in = QRinput_new2(min_version, levels[ecc]);
		if (in && QRinput_appendECIheader(in, 26) == 0 &&
		    QRinput_append(in, QR_MODE_8, (int)len,
		    (const unsigned char *)payload) == 0)
			code = QRcode_encodeInput(in);
		QRinput_free(in);
		return code;
	}
	/*
	 * 8-bit data with case sensitivity; libqrencode splits it into the
	 * most compact mix of numeric, alphanumeric and byte segments.
	 */
	return QRcode_encodeString(payload, min_version, levels[ecc],
	    QR_MODE_8, 1);
}

qp_qr *
qp_qr_encode(const char *payload, int ecc, qp_error *err)
{
	QRcode *code;
	qp_qr *q;
	size_t n, len = strlen(payload);
	bool eci = false, autolevel = ecc == QP_QR_ECC_AUTO;

	if (autolevel)
		ecc = QP_QR_ECC_AUTO_FLOOR;
	if (ecc < 0 || ecc > 3) {
		qp_fail(err, "bad error-correction level");
		return NULL;
	}
	if (len == 0) {
		qp_fail(err, "the QR payload is empty");
		return NULL;
	}
	code = encode_at(payload, 0, ecc, &eci);
	if (code == NULL) {
		if (errno == ERANGE || errno == EINVAL)
			qp_fail(err, "the QR payload is too long: %zu bytes do "
			    "not fit in any QR version at error correction %c "
			    "(at most about %d bytes; shorten the URL or use a "
			    "lower level)", len, qp_qr_ecc_name(ecc),
			    max_bytes[ecc]);
		else
			qp_fail(err, "cannot encode the QR payload: %s",
			    strerror(errno ? errno : EINVAL));
		return NULL;
	}
	/*
	 * auto: the symbol's size is fixed by the floor level; the highest
	 * level that still fits in that version costs nothing on paper.
	 * Tried from H down; the first that stays in the version wins.
	 */
	for (int lv = 3; autolevel && lv > ecc; lv--) {
		QRcode *c = encode_at(payload, code->version, lv, &eci);

		if (c && c->version == code->version) {
			QRcode_free(code);
			code = c;
			ecc = lv;
			break;
		}
		QRcode_free(c);
	}
	q = qp_xcalloc(1, sizeof *q);
	q->version = code->version;
	q->width = code->width;
	q->ecc = ecc;
	q->eci = eci;
	n = (size_t)code->width * (size_t)code->width;
	q->dark = qp_xmalloc(n);
	q->func = qp_xmalloc(n);
	/* libqrencode: bit 0 dark, bit 7 "non-data" (finder, timing,
	 * alignment, format and version modules). */
	for (size_t i = 0; i < n; i++) {
		q->dark[i] = code->data[i] & 1;
		q->func[i] = (code->data[i] >> 7) & 1;
	}
	QRcode_free(code);
	return q;
}

void
qp_qr_free(qp_qr *q)
{
	if (q == NULL)
		return;
	free(q->dark);
	free(q->func);
	free(q);
}
