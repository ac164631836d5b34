/* ft-maint-private.h — what the predictive-maintenance files share inside
 * src/models: the table of model operations, the model struct and the
 * blob writer/reader helpers each model serialises its state with.
 */
#pragma once

#include "ft-maint.h"

G_BEGIN_DECLS

typedef struct {
  gpointer (*fit)     (const FtMaintParams *p, const FtMaintRow *rows, guint n, GError **error);
  /* p_out[n]; horizon_h > 0 checked by the caller */
  gboolean (*predict) (gconstpointer state, const FtMaintRow *rows, guint n, double horizon_h,
                       double *p_out, GError **error);
  gboolean (*save)    (gconstpointer state, GByteArray *out, GError **error);
  gpointer (*load)    (const guint8 *data, gsize len, GError **error);
  void     (*free)    (gpointer state);
  /* optional: several horizons at once, p_out[k * n + i] (the model's
   * per-row work done once) */
  gboolean (*predict_multi) (gconstpointer state, const FtMaintRow *rows, guint n, const double *h, guint nh,
                             double *p_out, GError **error);
  /* optional: predict_multi through a memo of the per-vehicle work */
  gboolean (*predict_memo) (gconstpointer state, FtMaintMemo *memo, const FtMaintRow *rows, guint n,
                            const double *h, guint nh, double *p_out, GError **error);
} FtMaintOps;

/* The memo's store: per vehicle and feature, the value a term was
 * computed from (NaN: none) and the term; key holds the parameters the
 * terms belong to (the model's to compare as it likes). */
typedef struct {
  double x, term;
} FtMaintMemoSlot;

struct _FtMaintMemo {
  double           key[3 * FT_MAINT_N_FEATURES + 2];
  gboolean         keyed;
  guint            n_vehicles;
  FtMaintMemoSlot *slot;   /* [vehicle * FT_MAINT_N_FEATURES + feature] */
};

struct _FtMaintModel {
  FtMaintKind       kind;
  const FtMaintOps *ops;
  gpointer          state;
};

extern const FtMaintOps ft_maint_baseline_ops;
extern const FtMaintOps ft_maint_weibull_ops;
extern const FtMaintOps ft_maint_xgb_ops;

/* The Weibull fit by GSL's BFGS alone (what ft_maint_weibull_mle falls
 * back to when Newton's method does not converge) and by Newton's method
 * alone (FALSE when it does not converge), for the tests. */
gboolean ft_maint_weibull_mle_bfgs (const double *X, guint n, guint p, const double *time,
                                    const gboolean *event, double ridge, guint max_iter, double grad_tol,
                                    double *theta, GError **error);
gboolean ft_maint_weibull_mle_newton (const double *X, guint n, guint p, const double *time,
                                      const gboolean *event, double ridge, guint max_iter, double grad_tol,
                                      double *theta, GError **error);

/* Little-endian fixed-width writers and a bounds-checked reader. */
void     ft_maint_put_u32 (GByteArray *out, guint32 v);
void     ft_maint_put_f64 (GByteArray *out, double v);
typedef struct {
  const guint8 *p;
  gsize         left;
} FtMaintReader;
gboolean ft_maint_get_u32 (FtMaintReader *r, guint32 *v, GError **error);
gboolean ft_maint_get_f64 (FtMaintReader *r, double *v, GError **error);

/* qsort comparator for doubles. */
int      ft_maint_cmp_double (gconstpointer a, gconstpointer b);

/* TRUE if every feature of every row is finite (else an error naming the
 * row's vehicle, time and feature). */
gboolean ft_maint_rows_finite (const FtMaintRow *rows, guint n, GError **error);

G_END_DECLS
