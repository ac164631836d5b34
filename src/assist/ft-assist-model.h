/* ft-assist-model.h — the shape of the weights ft-assist-train.c writes
 * (generated ft-assist-model.c): one row per feature index that has a
 * nonzero weight for some intent, sorted by index, plus the biases. */
#pragma once

#include "ft-assist-intent.h"

typedef struct {
  guint32 index;
  float   w[FT_N_INTENTS];
} FtAssistModelRow;

extern const FtAssistModelRow ft_assist_model_rows[];
extern const guint            ft_assist_model_n_rows;
extern const float            ft_assist_model_bias[FT_N_INTENTS];
extern const char             ft_assist_model_digest[];   /* SHA-256 of the training corpus */
extern const guint            ft_assist_model_n_train;
