/*
 * photosim.h - phone photos of posters, made by the test suite (never
 * downloaded): posters rendered by ./qrposter hang on a wall, a pinhole
 * camera with a phone's field of view looks at them from a distance and
 * an angle, and the frame gets lens blur, sensor noise, a glare spot and
 * JPEG compression, with EXIF GPS, time and focal length written by
 * libexif.
 *
 * The perspective is exact (each frame pixel's ray is intersected with
 * the wall), not an affine approximation: Cairo has no projective
 * transforms, so the warp is done here per pixel, with the poster
 * pre-shrunk by a box filter to about the frame's sampling and read
 * bilinearly on a 2x2 grid per pixel. Cairo draws the wall, the stickers
 * pasted over a poster and the glare.
 */
#ifndef QP_PHOTOSIM_H
#define QP_PHOTOSIM_H

#include <stdbool.h>
#include <stddef.h>

#include <cairo.h>

/* A poster on the wall: its picture and where it hangs. */
typedef struct ps_poster {
	cairo_surface_t *img; /* the poster as rendered (PNG), owned by caller */
	double width_m;       /* printed width; height follows the picture */
	double wx, wy;        /* centre on the wall, metres from the point
	                       * the camera aims at (x right, y down) */
} ps_poster;

/* How the photo is taken. */
typedef struct ps_shot {
	int frame_w, frame_h; /* 0: 4000 x 3000 (12 MP) */
	double focal35;       /* 35 mm equivalent, mm; 0: 26 (a phone's main
	                       * camera) */
	double distance_m;    /* camera to the wall along the line of sight */
	double yaw_deg;       /* wall turned about its vertical axis */
	double pitch_deg;     /* ... and about its horizontal axis */
	double roll_deg;      /* camera turned in the image plane */
	double blur_px;       /* box blur radius (two passes), frame pixels */
	double noise;         /* sensor noise, standard deviation in grey levels */
	double glare;         /* 0..1: a highlight washing out the aim point */
	int quality;          /* JPEG quality; 0: 88 */
	unsigned seed;        /* noise seed */
	bool gps;             /* write EXIF GPS */
	double lat, lon;
	const char *time;     /* "YYYY:MM:DD HH:MM:SS" or NULL */
} ps_shot;

/* A poster picture: the PNG file, or NULL. */
cairo_surface_t *ps_load_png(const char *path);

/*
 * Paste a square sticker picture (sticker, e.g. a QR code PNG) over img,
 * centred at (cx, cy) in img's pixels, side pixels wide, on a white
 * margin of pad pixels. Modifies img.
 */
void ps_paste(cairo_surface_t *img, cairo_surface_t *sticker, double cx,
    double cy, double side, double pad);

/*
 * The bounding box (x, y, w, h, in img pixels) of the first QR code
 * libzbar finds in img; false if none.
 */
bool ps_find_code(cairo_surface_t *img, double box[4]);

/*
 * Take the photo of the posters (n of them) and write it to path as a
 * JPEG with EXIF. False if the file cannot be written.
 */
bool ps_photo(const char *path, const ps_poster *posters, size_t n,
    const ps_shot *shot);

/* The focal length in frame pixels for shot (what ps_photo uses). */
double ps_focal_px(const ps_shot *shot);

#endif
