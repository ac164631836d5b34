/* ft-store-models.h — the model registry and the shadow predictions in the
 * store (schema 7 on). The store keeps plain rows: model versions (kind,
 * city, the city whose data trained it, status, training window, features,
 * hyper-parameters and metrics as JSON text, the model blob and its
 * SHA-256), every shadow prediction with the actual once known, and the
 * retraining decisions with their numbers. What the kinds and statuses
 * mean is src/models' business (ft-registry.h); the store checks the
 * blob's SHA-256 on every read and refuses a blob that fails it.
 */
#pragma once

#include "ft-store.h"

G_BEGIN_DECLS

/* Schema version from which the registry tables exist. */
#define FT_STORE_MODELS_VERSION 7

typedef struct {
  gint64  id;             /* assigned by ft_store_model_put */
  char   *kind;           /* e.g. "forecast-glm" */
  char   *city;           /* the city the version serves */
  char   *trained_city;   /* the city whose data trained it (!= city: transferred) */
  char   *status;         /* "candidate", "shadow", "active", "retired" */
  FtTime  created;        /* the caller's clock (simulated or wall time) */
  FtTime  train_start, train_end;
  char   *features;       /* JSON text */
  char   *params;         /* JSON text */
  char   *metrics;        /* JSON text */
  GBytes *blob;           /* NULL in lists (ft_store_model_list) */
  char    sha256[65];     /* hex of the blob */
  gint64  blob_size;
} FtStoreModel;

void          ft_store_model_free      (FtStoreModel *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtStoreModel, ft_store_model_free)

/* Inserts a version (m->blob required, non-empty), computing its SHA-256;
 * sets m->id and m->sha256. */
gboolean      ft_store_model_put       (FtStore *s, FtStoreModel *m, GError **error);
/* One version with its blob, whose SHA-256 is checked: FT_STORE_ERROR_CORRUPT
 * when it fails, FT_STORE_ERROR_NOT_FOUND when there is no such version. */
FtStoreModel *ft_store_model_get       (FtStore *s, gint64 id, GError **error);
/* Versions (without blobs), oldest first; kind and city NULL: all. */
GPtrArray    *ft_store_model_list      (FtStore *s, const char *kind, const char *city,
                                        GError **error);
/* The id of the active version of kind and city, or 0 when none. */
gint64        ft_store_model_champion  (FtStore *s, const char *kind, const char *city,
                                        GError **error);
/* Sets a version's status; "active" makes it the champion of its kind and
 * city, and the previous champion is retired, in one transaction. */
gboolean      ft_store_model_set_status (FtStore *s, gint64 id, const char *status,
                                         GError **error);
gboolean      ft_store_model_set_metrics (FtStore *s, gint64 id, const char *metrics_json,
                                          GError **error);

typedef struct {
  gint64  version;
  char    target[40];     /* zone or vehicle id */
  guint   horizon;        /* hours ahead (lead); 0: the next 15 minutes
                           * (filled by ft_store_predictions_fill_issued) */
  FtTime  issued_at;
  FtTime  target_t;       /* forecasts: start of the target hour; maintenance:
                           * the end of the window (issued_at + horizon) */
  double  predicted;
  double  baseline;       /* the baseline's prediction (NAN: none) */
} FtStorePrediction;

/* Appends predictions in one transaction (a savepoint inside the
 * caller's when one is open). */
gboolean      ft_store_predictions_put (FtStore *s, const FtStorePrediction *p, guint n,
                                        GError **error);
/* Fills the actual of every prediction of (target, target_t) with a
 * horizon of an hour or more still without one, for n such pairs, in one
 * transaction. */
gboolean      ft_store_predictions_fill (FtStore *s, const char *const *targets,
                                         const FtTime *target_t, const double *actual, guint n,
                                         GError **error);

/* The same for predictions named by (target, issued_at, horizon): what
 * predictive maintenance fills (1 a fault came within the horizon, 0 none). */
gboolean      ft_store_predictions_fill_issued (FtStore *s, const char *const *targets,
                                                const FtTime *issued_at, const guint *horizon,
                                                const double *actual, guint n, GError **error);

typedef struct {
  guint64 n;              /* predictions with an actual */
  double  rmse, mae;
  double  base_rmse, base_mae;
} FtStorePredictionScore;

/* Scores of one version's predictions of an hour or more ahead that have
 * an actual (n = 0: none). */
gboolean      ft_store_prediction_score (FtStore *s, gint64 version, FtStorePredictionScore *out,
                                         GError **error);
guint64       ft_store_predictions_count (FtStore *s, gboolean with_actual);

typedef struct {
  FtTime      t;
  const char *kind, *city;
  gint64      champion, candidate;   /* 0: none */
  double      champion_score, candidate_score;   /* held-back RMSE */
  gboolean    promoted;
  const char *reason;                /* "schedule", "drift", "manual" */
} FtStoreDecision;

gboolean      ft_store_decision_put    (FtStore *s, const FtStoreDecision *d, GError **error);
guint64       ft_store_decisions_count (FtStore *s, gboolean promoted_only);

G_END_DECLS
