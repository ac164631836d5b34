/* ft-sim-rng.c — named random streams: seed = splitmix64 chain over (master
 * seed, FNV-1a hash of the name, replication), fed to a Mersenne Twister
 * (gsl_rng_mt19937) per stream. Uniform draws read the twister's state
 * inline (ft_sim_rng_draw, GSL's numbers bit for bit); the twist that
 * refills it is here.
 */
#include "ft-sim-rng.h"

#include <float.h>
#include <math.h>
#include <gsl/gsl_randist.h>

struct _FtSimRng {
  guint64     seed;
  guint       replication;
  GHashTable *streams;     /* name -> gsl_rng* */
};

static guint64
mix64 (guint64 x)
{
  x += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return x ^ (x >> 31);
}

static guint64
hash_name (const char *s)
{
  guint64 h = G_GUINT64_CONSTANT (0xcbf29ce484222325);
  for (; *s; s++)
    {
      h ^= (guchar) *s;
      h *= G_GUINT64_CONSTANT (0x100000001b3);
    }
  return h;
}

guint64
ft_sim_rng_derive_seed (guint64 master_seed, const char *name, guint replication)
{
  g_return_val_if_fail (name != NULL, 0);
  return mix64 (mix64 (mix64 (master_seed) ^ hash_name (name)) ^ (guint64) replication);
}

static void
rng_free (gpointer p)
{
  gsl_rng_free (p);
}

FtSimRng *
ft_sim_rng_new (guint64 master_seed, guint replication)
{
  FtSimRng *r = g_new0 (FtSimRng, 1);
  r->seed = master_seed;
  r->replication = replication;
  r->streams = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, rng_free);
  return r;
}

void
ft_sim_rng_free (FtSimRng *r)
{
  if (r == NULL)
    return;
  g_hash_table_unref (r->streams);
  g_free (r);
}

guint64
ft_sim_rng_master_seed (const FtSimRng *r)
{
  return r->seed;
}

guint
ft_sim_rng_replication (const FtSimRng *r)
{
  return r->replication;
}

gsl_rng *
ft_sim_rng_stream (FtSimRng *r, const char *name)
{
  g_return_val_if_fail (r != NULL && name != NULL, NULL);
  gsl_rng *g = g_hash_table_lookup (r->streams, name);
  if (g != NULL)
    return g;
  /* ft_sim_rng_draw reads the state as GSL lays it out */
  g_assert (gsl_rng_mt19937->size == sizeof (FtSimMtState));
  g = gsl_rng_alloc (gsl_rng_mt19937);
  guint64 s = ft_sim_rng_derive_seed (r->seed, name, r->replication);
  /* mt19937 takes an unsigned long; fold to 32 bits portably, never 0 */
  unsigned long s32 = (unsigned long) ((s ^ (s >> 32)) & 0xffffffffu);
  gsl_rng_set (g, s32 ? s32 : 4357);
  g_hash_table_insert (r->streams, g_strdup (name), g);
  return g;
}

/* GSL's mt_get at mti >= N (gsl/rng/mt.c), word for word. */
#define MT_N 624
#define MT_M 397
#define MT_UPPER 0x80000000UL
#define MT_LOWER 0x7fffffffUL
#define MT_MAGIC(y) ((0UL - ((y) & 0x1)) & 0x9908b0dfUL)   /* GSL: ((y) & 0x1) ? 0x9908b0dfUL : 0 */

void
ft_sim_rng_mt_refill (FtSimMtState *s)
{
  unsigned long *const mt = s->mt;
  int kk;
  for (kk = 0; kk < MT_N - MT_M; kk++)
    {
      unsigned long y = (mt[kk] & MT_UPPER) | (mt[kk + 1] & MT_LOWER);
      mt[kk] = mt[kk + MT_M] ^ (y >> 1) ^ MT_MAGIC (y);
    }
  for (; kk < MT_N - 1; kk++)
    {
      unsigned long y = (mt[kk] & MT_UPPER) | (mt[kk + 1] & MT_LOWER);
      mt[kk] = mt[kk + (MT_M - MT_N)] ^ (y >> 1) ^ MT_MAGIC (y);
    }
  {
    unsigned long y = (mt[MT_N - 1] & MT_UPPER) | (mt[0] & MT_LOWER);
    mt[MT_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ MT_MAGIC (y);
  }
  s->mti = 0;
}

double
ft_sim_rng_uniform (gsl_rng *r)
{
  return ft_sim_rng_draw (r);
}

double
ft_sim_rng_uniform_pos (gsl_rng *r)
{
  return ft_sim_rng_draw_pos (r);
}

double
ft_sim_rng_exponential (gsl_rng *r, double mean)
{
  return -mean * log (ft_sim_rng_draw_pos (r));
}

guint64
ft_sim_rng_u64 (gsl_rng *r)
{
  guint64 hi = gsl_rng_get (r) & 0xffffffffu;
  guint64 lo = gsl_rng_get (r) & 0xffffffffu;
  return (hi << 32) | lo;
}

guint
ft_sim_rng_pick (double u, const double *w, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      u -= w[i];
      if (u < 0)
        return i;
    }
  return n - 1;
}

guint
ft_sim_rng_discrete (gsl_rng *r, const double *w, guint n, double sum)
{
  g_return_val_if_fail (n > 0, 0);
  return ft_sim_rng_pick (ft_sim_rng_draw (r) * sum, w, n);
}

gboolean
ft_sim_rng_cumulate (const double *w, guint n, double *cum)
{
  double c = 0;
  gboolean ok = TRUE;
  for (guint i = 0; i < n; i++)
    {
      ok = ok && w[i] >= 0 && isfinite (w[i]);
      cum[i] = c += w[i];
    }
  return ok && isfinite (c);
}

/* ft_sim_rng_pick's answer is the first i whose running remainder
 * r_i = (((u - w_0) - w_1) ... - w_i), rounded at each step, is negative;
 * the remainders only fall (w_i >= 0, rounding is monotone). Exactly,
 * r_i = u - S_i with S_i the partial sums; the rounded r_i is within
 * (i + 1) ulp/2 of max (u, S_n) of that, and cum[i] within i ulp/2 of
 * S_i, so where u lies farther than tol from cum[j] and cum[j - 1], the
 * signs of u - cum and of the remainders agree: the binary search's j is
 * the loop's. Nearer (in practice never), the loop itself. */
guint
ft_sim_rng_pick_cum (double u, const double *w, const double *cum, guint n)
{
  /* lo: the first j with u < cum[j], n if none (the running sums do not
   * fall, so there is one such place). Without branches: b ends on the
   * last cum[j] <= u, or on cum[0] when there is none, the halving's
   * compare a conditional move rather than a jump taken at random. */
  const double *b = cum;
  for (guint len = n; len > 1;)
    {
      guint half = len / 2;
      b = b[half] <= u ? b + half : b;
      len -= half;
    }
  guint lo = (guint) (b - cum) + (*b <= u);
  double tol = (2.0 * n + 2.0) * DBL_EPSILON * MAX (u, cum[n - 1]);
  if (lo < n)
    {
      if (cum[lo] - u > tol && (lo == 0 || u - cum[lo - 1] > tol))
        return lo;
    }
  else if (n == 1 || u - cum[n - 2] > tol)    /* no remainder negative before the last */
    return n - 1;
  return ft_sim_rng_pick (u, w, n);
}

guint
ft_sim_rng_discrete_cum (gsl_rng *r, const double *w, const double *cum, guint n, double sum)
{
  g_return_val_if_fail (n > 0, 0);
  double u = ft_sim_rng_draw (r) * sum;
  return cum != NULL ? ft_sim_rng_pick_cum (u, w, cum, n) : ft_sim_rng_pick (u, w, n);
}
