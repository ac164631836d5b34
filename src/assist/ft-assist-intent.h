/* ft-assist-intent.h — the assistant's intents (issue 17 names them) and
 * the embedded classifier over them: a multi-class logistic regression
 * trained with liblinear at build time on corpus/train.tsv
 * (ft-assist-train.c writes the weights as C), applied here to
 * ft_assist_features. No file is read at run time.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  FT_INTENT_FIND_VEHICLE = 0,
  FT_INTENT_EXPLAIN_CHARGE,
  FT_INTENT_CANNOT_END_RIDE,
  FT_INTENT_UNLOCK_FAILED,
  FT_INTENT_BATTERY_RANGE,
  FT_INTENT_REFUND_REQUEST,
  FT_INTENT_REPORT_DAMAGE,
  FT_INTENT_REPORT_PARKING,
  FT_INTENT_ACCOUNT_DATA,
  FT_INTENT_LOST_ITEM,
  FT_INTENT_PAYMENT_TOPUP,
  FT_INTENT_OFFERS_POINTS,
  FT_INTENT_HUMAN_AGENT,
  FT_INTENT_OUT_OF_SCOPE,
  FT_N_INTENTS
} FtIntent;

const char *ft_intent_name      (FtIntent i);          /* "find_vehicle" … */
gboolean    ft_intent_from_name (const char *name, FtIntent *out);

/* The intent of a message and its probability (0..1); probs (nullable)
 * gets all FT_N_INTENTS probabilities. The message must be valid UTF-8;
 * an empty one is out_of_scope with confidence 1. */
FtIntent    ft_intent_classify  (const char *text, gsize len, double *confidence, double *probs);

G_END_DECLS
