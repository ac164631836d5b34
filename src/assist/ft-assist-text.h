/* ft-assist-text.h — what the assistant reads: a message is checked
 * (UTF-8, size), normalised (case-folded, accents stripped, apostrophes
 * dropped) and cut into tokens, with times, amounts, vehicle codes and
 * other numbers replaced by class tokens; the tokens become hashed,
 * L2-normalised features for the intent classifier. The trainer (build
 * time) and the assistant (run time) share this file, so both see a
 * message the same way.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Messages longer than this (bytes) are refused, not truncated. */
#define FT_ASSIST_MAX_MESSAGE 4096
/* Feature space: indices 1..FT_ASSIST_N_FEATURES (liblinear is 1-based). */
#define FT_ASSIST_FEATURE_BITS 14
#define FT_ASSIST_N_FEATURES   (1u << FT_ASSIST_FEATURE_BITS)

typedef struct {
  guint32 index;     /* 1-based */
  double  value;
} FtAssistFeature;

/* Normalised tokens of a valid UTF-8 message (NULL-terminated, free with
 * g_strfreev). Class tokens: "<vehicle>", "<money>", "<time>", "<num>". */
char   **ft_assist_tokens   (const char *text, gsize len);
/* Features of a message (sorted by index, L2-normalised) into out
 * (an array of FtAssistFeature, cleared first); returns how many. */
guint    ft_assist_features (const char *text, gsize len, GArray *out);

G_END_DECLS
