/*
 * zxread.cpp - the C interface of zxread.h over ZXing-cpp (Debian
 * libzxing-dev). Exceptions never cross into C: every one is caught.
 */
#include "zxread.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>

/* The text()/ecLevel() API of ZXing 1.4 warns without it; audit uses
 * bytes() only. */
#define ZX_USE_UTF8 1
#include <ReadBarcode.h>

extern "C" bool
qp_zx_read(const unsigned char *grey, int w, int h, int stride,
    qp_zx_codes *out, char *why, size_t whysz)
{
	out->v = nullptr;
	out->n = 0;
	try {
		ZXing::ImageView img(grey, w, h, ZXing::ImageFormat::Lum,
		    stride);
		ZXing::DecodeHints hints;

		hints.setFormats(ZXing::BarcodeFormat::QRCode);
		hints.setTryHarder(true);
		hints.setTryRotate(true);
		/* Codes far away are small: ZXing's own downscaling looks for
		 * big ones, not these. */
		hints.setTryDownscale(false);
		/* Located but undecodable codes come back too, as errors. */
		hints.setReturnErrors(true);
		hints.setMaxNumberOfSymbols(16);
		ZXing::Results rs = ZXing::ReadBarcodes(img, hints);
		if (rs.empty())
			return true;
		out->v = static_cast<qp_zx_code *>(calloc(rs.size(),
		    sizeof *out->v));
		if (out->v == nullptr)
			throw std::bad_alloc();
		for (const ZXing::Result &r : rs) {
			qp_zx_code *c = &out->v[out->n];
			const ZXing::Position &p = r.position();

			c->decoded = r.isValid();
			for (int i = 0; i < 4; i++) {
				c->quad[2 * i] = p[i].x;
				c->quad[2 * i + 1] = p[i].y;
			}
			if (c->decoded) {
				const ZXing::ByteArray &b = r.bytes();
				c->data = static_cast<char *>(malloc(b.size() +
				    1));
				if (c->data == nullptr)
					throw std::bad_alloc();
				if (b.size())
					memcpy(c->data, b.data(), b.size());
				c->data[b.size()] = '\0';
				c->len = b.size();
			}
			out->n++;
		}
		return true;
	} catch (const std::exception &e) {
		qp_zx_codes_free(out);
		snprintf(why, whysz, "ZXing: %s", e.what());
	} catch (...) {
		qp_zx_codes_free(out);
		snprintf(why, whysz, "ZXing failed");
	}
	return false;
}

extern "C" void
qp_zx_codes_free(qp_zx_codes *c)
{
	if (c == nullptr)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].data);
	free(c->v);
	c->v = nullptr;
	c->n = 0;
}
