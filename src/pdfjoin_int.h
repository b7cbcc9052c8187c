/*
 * pdfjoin_int.h - what the two files of the joiner share (pdfjoin.h
 * says what it does and why): pdfjoin_read.c reads the inputs, object by
 * object, and copies values renumbered into the output; pdfjoin.c
 * writes the joined file.
 */
#ifndef QP_PDFJOIN_INT_H
#define QP_PDFJOIN_INT_H

#include <glib.h>
#include <stdio.h>

#include "pdfjoin.h"

/* Hostile or broken input must not exhaust memory or the stack. */
#define MAX_TOKEN (1 << 20)
#define MAX_DEPTH 64

/* The output's own objects; input i's object n becomes base_i + n. */
#define OBJ_CATALOG 1
#define OBJ_PAGES 2
#define OBJ_INFO 3
#define FIRST_FREE 4

/* Compact output: objects per object stream (qpdf's choice too), and a
 * bound on its size; bytes per cross-reference stream entry (W 1 8 2). */
#define OBJSTM_OBJECTS 100
#define OBJSTM_BYTES (256 * 1024)
#define XREC 11

enum {
	T_EOF, T_INT, T_NUM, T_NAME, T_STR, T_HEX, T_DOPEN, T_DCLOSE,
	T_AOPEN, T_ACLOSE, T_KW
};

typedef struct tok {
	int type;
	qp_buf text;   /* the bytes as written (names with their '/') */
	long long ival; /* T_INT */
	bool nl;       /* a line break came before it */
} tok;

typedef struct lexer {
	FILE *f;
	const char *path;
	long long pos; /* offset of the next byte read */
	tok back[2];   /* pushed-back tokens, a stack */
	int nback;
} lexer;

typedef struct input {
	char *path;
	FILE *f;         /* objects, then the page list */
	FILE *x;         /* table lines and /Length objects, while copying */
	long long xref;  /* offset of the table's first line */
	long long size;  /* trailer /Size: objects 0 .. size-1 */
	long long root, info, pages; /* object numbers (info 0: none) */
	long long npages;
	long long kids;  /* offset just before the page tree's /Kids array */
	long long base;
	long long nann;  /* link annotations added to its pages */
	int version;     /* 10 * major + minor of %PDF-M.m */
	/* A cross-reference stream (xref < 0): its entries, inflated, as
	 * fixed records of w[0] + w[1] + w[2] bytes in an unlinked file. */
	FILE *xtab;
	int w[3];
	long long kids_stm;  /* the page tree's object stream, or -1 */
	/* The object stream read last (objects in one are copied one after
	 * another, so one is kept). */
	long long stm_num;   /* -1: none */
	char *stm_data;
	size_t stm_len;
	long long stm_n, stm_first;
	long long *stm_nums, *stm_offs;
	FILE *stm_fp;        /* stm_data as a stream, for the lexer */
	/* A block of the classic table's lines, read at once: objects are
	 * copied in number order, and a seek per line (glibc's fseeko
	 * always makes a system call) was two thirds of the joiner's. */
	char *xblk;
	long long xblk_first, xblk_n; /* its first line and line count */
} input;

struct qp_pdfjoin {
	input *in;
	size_t n;
	/* writing */
	qp_outfile *out;
	GChecksum *sum;
	long long opos;
	bool nlpending;
	/* compact output */
	bool compact;
	qp_buf *sink;               /* where out_bytes goes, if not out */
	qp_buf obj;                 /* the object being copied */
	qp_buf stm_head, stm_body;  /* the object stream being filled */
	size_t stm_n;
	long long stm_num, next_stm, nstm;
	FILE *xs;                   /* the object streams' offsets */
	struct libdeflate_compressor *zc; /* for object streams */
	/* finishing pages (qp_pdfjoin_finish) */
	qp_pdfjoin_finish_fn fin_fn;
	void *fin_arg;
};

/* Where object n is: 0 free, 1 at off in the file, 2 the idx-th object
 * of object stream stm. */
typedef struct loc {
	int type;
	long long off, stm, idx;
} loc;

/* What copy_value saw, for the keys the joiner needs. */
typedef struct value {
	int type;        /* T_INT, a reference (T_KW "R"), or other */
	long long num;   /* the integer, or the object referred to */
	bool ref;
	long long pos;   /* where it starts (for /Kids) */
	/* An array: its items, and the first four if they are numbers
	 * (a /MediaBox). */
	int nitems, nnums;
	double nums[4];
} value;

typedef struct copy {
	qp_pdfjoin *j;
	input *in;
	lexer *l;
	bool emit;             /* write what is read (else only parse) */
	const char *const *keep; /* top-level keys to keep (NULL: all) */
	/* Top-level keys noted while reading, NULL-terminated names. */
	const char *const *want;
	value *got;
	bool pages_node;       /* saw /Type /Pages at the top */
	bool container;        /* saw /Type /ObjStm or /XRef at the top */
	/* Where the top-level /Length value went in j->sink. */
	size_t len_from, len_to;
	bool page_node;        /* saw /Type /Page at the top */
} copy;

/* ---- pdfjoin_lex.c ---- */

/* The lexer over f (a file, or an object stream in memory). */
void pj_lx_init(lexer *l, FILE *f, const char *path);
void pj_lx_free(lexer *l);
bool pj_lx_seek(lexer *l, long long off);
int pj_lx_getc(lexer *l);
void pj_lx_ungetc(lexer *l, int c);
/* PDF white space. */
bool pj_lx_space(int c);
bool pj_lx_next(lexer *l, tok *t, qp_error *err);
/* Push t back for the next pj_lx_next (its contents move to the lexer;
 * t gets an empty buffer). */
void pj_lx_push(lexer *l, tok *t);
/* False, with err naming the file and the byte. */
bool pj_lx_fail(lexer *l, qp_error *err, const char *what);
bool pj_is_kw(const tok *t, const char *kw);

/* ---- pdfjoin_read.c ---- */

/* Where object n of in is (its table read through f). */
bool pj_locate(input *in, FILE *f, long long n, loc *lc, qp_error *err);
/* l at the value of object n, found at lc (*found false if it is not
 * there). */
bool pj_seek_object(input *in, lexer *l, FILE *f, tok *t, long long n,
    const loc *lc, bool *found, qp_error *err);
/* Parse object n without writing, noting the top-level keys in want. */
bool pj_read_object(qp_pdfjoin *j, input *in, FILE *f, long long n,
    const char *const *want, value *got, bool *found, bool *pages_node,
    qp_error *err);
/* What the page tree's /Kids is read from (the file or its object
 * stream, loaded). */
FILE *pj_kids_file(input *in, qp_error *err);

/* Copy one value, its first token read now, references renumbered;
 * written (c->emit) through pj_out_bytes. */
bool pj_copy_value(copy *c, tok *t, int depth, value *v, qp_error *err);
/* The output number of input object n. */
long long pj_renumber(const input *in, long long n);
/* Bytes to the output (or to j->sink), counted and hashed. */
void pj_out_bytes(qp_pdfjoin *j, const char *s, size_t n);
void pj_out_str(qp_pdfjoin *j, const char *s);

#endif
