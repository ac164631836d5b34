/* ft-assist-intent.c — intent names and the embedded classifier. */
#include "ft-assist-intent.h"
#include "ft-assist-model.h"
#include "ft-assist-text.h"

#include <math.h>
#include <string.h>

static const FtAssistModelRow *
find_row (guint32 index)
{
  guint lo = 0, hi = ft_assist_model_n_rows;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (ft_assist_model_rows[mid].index < index)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo < ft_assist_model_n_rows && ft_assist_model_rows[lo].index == index ? &ft_assist_model_rows[lo] : NULL;
}

FtIntent
ft_intent_classify (const char *text, gsize len, double *confidence, double *probs)
{
  double dec[FT_N_INTENTS], p[FT_N_INTENTS], sum = 0;
  g_autoptr(GArray) feats = g_array_new (FALSE, FALSE, sizeof (FtAssistFeature));
  guint best = FT_INTENT_OUT_OF_SCOPE;

  g_return_val_if_fail (text != NULL || len == 0, FT_INTENT_OUT_OF_SCOPE);
  if (ft_assist_features (text, len, feats) == 0)
    {
      for (guint c = 0; probs && c < FT_N_INTENTS; c++)
        probs[c] = c == FT_INTENT_OUT_OF_SCOPE ? 1.0 : 0.0;
      if (confidence)
        *confidence = 1.0;
      return FT_INTENT_OUT_OF_SCOPE;
    }
  for (guint c = 0; c < FT_N_INTENTS; c++)
    dec[c] = ft_assist_model_bias[c];
  for (guint i = 0; i < feats->len; i++)
    {
      const FtAssistFeature *f = &g_array_index (feats, FtAssistFeature, i);
      const FtAssistModelRow *r = find_row (f->index);
      for (guint c = 0; r && c < FT_N_INTENTS; c++)
        dec[c] += r->w[c] * f->value;
    }
  /* liblinear's one-vs-rest probabilities, normalised (predict_probability) */
  for (guint c = 0; c < FT_N_INTENTS; c++)
    {
      p[c] = 1.0 / (1.0 + exp (-dec[c]));
      sum += p[c];
    }
  for (guint c = 0; c < FT_N_INTENTS; c++)
    {
      p[c] /= sum;
      if (p[c] > p[best] || (p[c] == p[best] && c < best))
        best = c;
      if (probs)
        probs[c] = p[c];
    }
  if (confidence)
    *confidence = p[best];
  return (FtIntent) best;
}
