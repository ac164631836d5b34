/* ft-sim-rng.h — named random streams for the simulated world.
 *
 * Every random process draws from its own GSL generator whose seed is
 * derived by hashing (master seed, stream name, replication). Adding or
 * removing a stream never changes the numbers another stream produces, so
 * two policy variants run with the same seed see the same riders (common
 * random numbers). All state lives in the FtSimRng object.
 */
#pragma once

#include <glib.h>
#include <gsl/gsl_rng.h>

G_BEGIN_DECLS

typedef struct _FtSimRng FtSimRng;

FtSimRng *ft_sim_rng_new        (guint64 master_seed, guint replication);
void      ft_sim_rng_free       (FtSimRng *rng);
guint64   ft_sim_rng_master_seed(const FtSimRng *rng);
guint     ft_sim_rng_replication(const FtSimRng *rng);
/* The derived 64-bit seed of a stream (pure function of seed, name, replication). */
guint64   ft_sim_rng_derive_seed(guint64 master_seed, const char *name, guint replication);
/* The generator for a stream, created on first use and owned by rng. */
gsl_rng  *ft_sim_rng_stream     (FtSimRng *rng, const char *name);

/* Convenience draws */
double    ft_sim_rng_uniform    (gsl_rng *r);                 /* [0,1) */
double    ft_sim_rng_uniform_pos(gsl_rng *r);                 /* (0,1) */
double    ft_sim_rng_exponential(gsl_rng *r, double mean);
guint64   ft_sim_rng_u64        (gsl_rng *r);
/* Index drawn with probability proportional to weights[i] (n > 0, sum > 0);
 * returns n-1 on rounding. */
guint     ft_sim_rng_discrete   (gsl_rng *r, const double *weights, guint n, double sum);
/* The same draw and answer through cum, the running sums of the weights
 * (ft_sim_rng_cumulate), by binary search; NULL cum: the plain loop. */
guint     ft_sim_rng_discrete_cum (gsl_rng *r, const double *weights, const double *cum, guint n,
                                   double sum);
/* cum[i] = weights[0] + ... + weights[i], added in order; FALSE if a
 * weight is negative or not finite (then pass NULL for cum). */
gboolean  ft_sim_rng_cumulate   (const double *weights, guint n, double *cum);
/* The index a draw u in [0, sum) picks: the loop (u less each weight in
 * turn, the first to go negative), and the same through cum (tests
 * compare them). */
guint     ft_sim_rng_pick       (double u, const double *weights, guint n);
guint     ft_sim_rng_pick_cum   (double u, const double *weights, const double *cum, guint n);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtSimRng, ft_sim_rng_free)

/* GSL's mt19937 state (gsl/rng/mt.c, unchanged since GSL 1.0): the 624
 * words and the index of the next. ft_sim_rng_stream checks the size. */
typedef struct {
  unsigned long mt[624];
  int           mti;
} FtSimMtState;

/* The twist that makes the next 624 words, as GSL's mt_get does at
 * mti >= 624 (the same code, so the same words). */
void      ft_sim_rng_mt_refill  (FtSimMtState *s);

/* gsl_rng_uniform (r) and gsl_rng_uniform_pos (r), bit for bit and
 * advancing the same state, with a stream's mt19937 draw inline instead of
 * two calls through GSL's type table; other generators go through GSL. */
static inline double
ft_sim_rng_draw (gsl_rng *r)
{
  if (G_LIKELY (r->type == gsl_rng_mt19937))
    {
      FtSimMtState *s = r->state;
      if (G_UNLIKELY (s->mti >= 624))
        ft_sim_rng_mt_refill (s);
      unsigned long k = s->mt[s->mti++];     /* GSL's tempering */
      k ^= (k >> 11);
      k ^= (k << 7) & 0x9d2c5680UL;
      k ^= (k << 15) & 0xefc60000UL;
      k ^= (k >> 18);
      return k / 4294967296.0;
    }
  return gsl_rng_uniform (r);
}

static inline double
ft_sim_rng_draw_pos (gsl_rng *r)
{
  double x;
  do
    x = ft_sim_rng_draw (r);
  while (x == 0);
  return x;
}

G_END_DECLS
