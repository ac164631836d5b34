/* ft-registry.h — the model registry over the store (ft-store-models.h):
 * kinds, statuses, zonings, training a forecast candidate from a store's
 * own event log, evaluating it on a held-back window against the champion,
 * and loading a version back (its blob's SHA-256 checked by the store, its
 * format by the model). Statuses: candidate (trained, not running),
 * shadow (running beside the champion, a challenger), active (the champion
 * of its kind and city: at most one) and retired.
 *
 * Demand a model is trained on: requests per zone and hour, counted from
 * the event log as FT_EV_BOOKING_RESERVED (a rider who found a vehicle)
 * plus FT_EV_RIDER_LOST (a rider who did not: no vehicle, low battery,
 * price, refused), each at its position, plus, in shadow mode, a vehicle
 * going on a trip the twin did not book (FT_EV_VEHICLE_STATE to on_trip
 * with no booking: what live devices report). A refused unlock logs both
 * a reservation and a loss: that rare request counts twice. Where the log
 * has no lost-demand events (live feeds) the count is served demand, a
 * lower bound.
 *
 * Zones: a zoning is a list of zone ids with a centre each; an event
 * belongs to the nearest centre (within max_m; farther ones are outside
 * every zone). The simulator's city zones give their centroids; a store
 * without a recorded zoning is zoned on a square grid over its events.
 * The zoning a model was trained on is part of its features (JSON), so a
 * version can be used on the same zones again.
 *
 * Cities: a version serves `city`; `trained_city` is the city whose data
 * trained it. When they differ the version is labelled transferred.
 */
#pragma once

#include "ft-forecast.h"
#include "ft-maint.h"
#include "ft-store-models.h"

G_BEGIN_DECLS

#define FT_REGISTRY_ERROR (ft_registry_error_quark ())
GQuark ft_registry_error_quark (void);
typedef enum {
  FT_REGISTRY_ERROR_INVALID,     /* bad argument, unknown kind or status, NaN/Inf */
  FT_REGISTRY_ERROR_EMPTY,       /* no data to train on */
  FT_REGISTRY_ERROR_KIND,        /* the version is not of the kind asked for */
} FtRegistryError;

typedef enum {
  FT_MODEL_FORECAST_MEAN = 0,
  FT_MODEL_FORECAST_GLM,
  FT_MODEL_FORECAST_XGB,
  FT_MODEL_MAINT_WEIBULL,
  FT_MODEL_MAINT_XGB,
  FT_MODEL_MAINT_BASELINE,
  FT_N_MODEL_KINDS
} FtModelKind;

const char *ft_model_kind_name      (FtModelKind kind);   /* "forecast-glm" … */
gboolean    ft_model_kind_from_name (const char *name, FtModelKind *kind);
FtModelKind ft_model_kind_for_forecast (FtForecastKind kind);
/* The forecast kind of a forecast-* model kind (FALSE for maint-*). */
gboolean    ft_model_kind_to_forecast (FtModelKind kind, FtForecastKind *out);
FtModelKind ft_model_kind_for_maint (FtMaintKind kind);
/* The maintenance kind of a maint-* model kind (FALSE for forecast-*). */
gboolean    ft_model_kind_to_maint  (FtModelKind kind, FtMaintKind *out);
gboolean    ft_model_status_valid   (const char *status);

/* ---- zonings ------------------------------------------------------------ */

typedef struct {
  guint   n;
  char  **ids;       /* n, NULL-terminated */
  double *lat, *lon; /* centres */
  double  max_m;     /* farther than this from every centre: outside (default 2000) */
  struct _FtZoningGrid *grid;   /* private: the centres by cell, for ft_zoning_zone_of */
} FtZoning;

/* Copies; refuses no zones and NaN/Inf or out-of-range centres. */
FtZoning *ft_zoning_new        (guint n, const char *const *ids, const double *lat,
                                const double *lon, GError **error);
/* A square grid of cell_m metres over the positions given (only cells that
 * hold one get a zone, ids "g<row>-<col>"). Refuses no finite positions. */
FtZoning *ft_zoning_grid       (const double *lat, const double *lon, gsize n, double cell_m,
                                GError **error);
void      ft_zoning_free       (FtZoning *z);
/* Zone of a position, or -1 (outside, or NaN): the nearest centre within
 * max_m (ties: the zone listed last), among the few that can be nearest
 * in the position's cell of a grid: the same answer as a scan of every
 * centre. */
int       ft_zoning_zone_of    (const FtZoning *z, double lat, double lon);
char     *ft_zoning_to_json    (const FtZoning *z);
FtZoning *ft_zoning_from_json  (const char *json, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtZoning, ft_zoning_free)

/* ---- demand from a store's event log ------------------------------------ */

/* Requests (see the purpose block) in the store's events table, by zone
 * and hour. zoning NULL: the zoning recorded in the store's meta
 * ("models.zoning", written by shadow mode), else a grid of cell_m over
 * the requests, returned in *zoning_out (may be NULL). Hours of week
 * follow the clock shadow mode recorded (meta "models.how_offset": the
 * simulator's t = 0 is a Monday). Refuses a store
 * with no requests, and a request at a NaN/Inf position (naming its seq). */
FtDemandSeries *ft_registry_demand_from_store (FtStore *s, const FtZoning *zoning, double cell_m,
                                               FtZoning **zoning_out, GError **error);

/* ---- versions ----------------------------------------------------------- */

typedef struct {
  const char *city;          /* the city served */
  const char *trained_city;  /* NULL: city */
  FtTime      created;
  FtTime      train_start, train_end;
  const FtZoning *zoning;    /* recorded in the features JSON */
  const char *metrics_json;  /* NULL: "{}" */
  const char *status;        /* NULL: candidate */
} FtRegistryEntry;

/* Stores a fitted forecaster as a new version; returns its id (> 0) or 0. */
gint64        ft_registry_put_forecast (FtStore *s, const FtForecaster *f, const FtRegistryEntry *e,
                                        GError **error);
/* Loads a forecast version (checksum checked by the store; kind must be a
 * forecast kind). meta_out (nullable) gets the row. */
FtForecaster *ft_registry_load_forecast (FtStore *s, gint64 id, FtStoreModel **meta_out,
                                         GError **error);
/* Stores a fitted maintenance model (kind maint-*) as a new version
 * (zoning ignored); returns its id (> 0) or 0. */
gint64        ft_registry_put_maint     (FtStore *s, const FtMaintModel *m, const FtMaintParams *params,
                                         const FtRegistryEntry *e, GError **error);
/* Loads a maintenance version: the store checks the SHA-256, the model its
 * blob; refuses a version of another kind. */
FtMaintModel *ft_registry_load_maint    (FtStore *s, gint64 id, FtStoreModel **meta_out,
                                         GError **error);
/* Champion of kind and city: id, or 0 (error unset) when there is none. */
gint64        ft_registry_champion      (FtStore *s, FtModelKind kind, const char *city,
                                         GError **error);
gboolean      ft_registry_promote       (FtStore *s, gint64 id, GError **error);
gboolean      ft_registry_retire        (FtStore *s, gint64 id, GError **error);
/* "transferred" when trained on another city's data, else "local". */
const char   *ft_registry_origin_label  (const FtStoreModel *m);

/* ---- evaluation --------------------------------------------------------- */

/* RMSE and MAE of f on hours [start, end) of s, from origins every
 * `every` hours with leads 1..horizon (targets inside the window only).
 * n_out (nullable): zone-hours scored. */
gboolean ft_registry_evaluate (FtForecaster *f, const FtDemandSeries *s, guint start, guint end,
                               guint horizon, guint every, double *rmse, double *mae, guint *n_out,
                               GError **error);

G_END_DECLS
