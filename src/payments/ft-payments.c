/* ft-payments.c — rider money on top of the ledger. Each operation checks
 * its idempotency key first (same key + same arguments → the original tx id;
 * same key + other arguments → refused), then validates, then talks to the
 * card provider if money must come in, and only then posts to the ledger, so
 * a refused or declined call leaves no trace but a decline event. Open holds,
 * captured amounts per booking and the key table are indexes over the
 * ledger and can be rebuilt from it after a reload.
 */
#include "ft-payments.h"

#include <string.h>

G_DEFINE_QUARK (ft-payments-error-quark, ft_payments_error)

#define NO_ACC G_MAXUINT32

/* Records keyed by a 64-bit first member, stored inline in one open-
 * addressed table (linear probing, at most 70% full, deletion by
 * backward shift): no allocation per record, and a probe reads the slot
 * itself (an empty slot holds the key RECMAP_EMPTY; a record with that
 * key lives beside the table), where a GHashTable chased three arrays and
 * a pointer. A record pointer stays valid until the next insert or remove. */
#define RECMAP_EMPTY G_MAXUINT64
typedef struct {
  guint8 *slots;     /* cap records of `size` bytes, RECMAP_EMPTY keys when free */
  gsize   size, cap, n;
  gboolean has_empty_key;
  guint64 empty_key_rec[16];  /* the record whose key is RECMAP_EMPTY */
} RecMap;

static void
recmap_init (RecMap *m, gsize size)
{
  g_assert (size <= sizeof m->empty_key_rec);
  memset (m, 0, sizeof *m);
  m->size = size;
}

static void
recmap_clear (RecMap *m)
{
  g_free (m->slots);
  recmap_init (m, m->size);
}

static inline gsize
recmap_home (const RecMap *m, guint64 key)
{
  return (gsize) ft_mix64 (key) & (m->cap - 1);
}

static inline guint64
recmap_key (const RecMap *m, gsize i)
{
  guint64 k;
  memcpy (&k, m->slots + i * m->size, sizeof k);
  return k;
}

static inline void
recmap_set_key (RecMap *m, gsize i, guint64 key)
{
  memcpy (m->slots + i * m->size, &key, sizeof key);
}

static gpointer
recmap_lookup (const RecMap *m, guint64 key)
{
  if (key == RECMAP_EMPTY)
    return m->has_empty_key ? (gpointer) m->empty_key_rec : NULL;
  if (m->cap == 0)
    return NULL;
  for (gsize i = recmap_home (m, key);; i = (i + 1) & (m->cap - 1))
    {
      guint64 k = recmap_key (m, i);
      if (k == key)
        return m->slots + i * m->size;
      if (k == RECMAP_EMPTY)
        return NULL;
    }
}

static gpointer recmap_insert (RecMap *m, guint64 key);

static void
recmap_grow (RecMap *m)
{
  guint8 *old = m->slots;
  gsize old_cap = m->cap;
  m->cap = old_cap ? old_cap * 2 : 64;
  m->slots = g_malloc (m->cap * m->size);
  if (m->cap * m->size >= (4u << 20))
    ft_mem_advise_huge (m->slots);   /* before the keys below touch it */
  for (gsize i = 0; i < m->cap; i++)
    recmap_set_key (m, i, RECMAP_EMPTY);
  for (gsize i = 0; i < old_cap; i++)
    {
      guint64 k;
      memcpy (&k, old + i * m->size, sizeof k);
      if (k == RECMAP_EMPTY)
        continue;
      gsize j = recmap_home (m, k);
      while (recmap_key (m, j) != RECMAP_EMPTY)
        j = (j + 1) & (m->cap - 1);
      memcpy (m->slots + j * m->size, old + i * m->size, m->size);
    }
  g_free (old);
}

/* The record of `key`, added (zeroed but for the key) when absent. */
static gpointer
recmap_insert (RecMap *m, guint64 key)
{
  if (key == RECMAP_EMPTY)
    {
      if (!m->has_empty_key)
        {
          memset (m->empty_key_rec, 0, sizeof m->empty_key_rec);
          memcpy (m->empty_key_rec, &key, sizeof key);
          m->has_empty_key = TRUE;
        }
      return m->empty_key_rec;
    }
  if (10 * (m->n + 1) > 7 * m->cap)
    recmap_grow (m);
  gsize i = recmap_home (m, key);
  for (;; i = (i + 1) & (m->cap - 1))
    {
      guint64 k = recmap_key (m, i);
      if (k == key)
        return m->slots + i * m->size;
      if (k == RECMAP_EMPTY)
        break;
    }
  guint8 *rec = m->slots + i * m->size;
  memset (rec + sizeof key, 0, m->size - sizeof key);
  memcpy (rec, &key, sizeof key);
  m->n++;
  return rec;
}

static void
recmap_remove (RecMap *m, guint64 key)
{
  if (key == RECMAP_EMPTY)
    {
      m->has_empty_key = FALSE;
      return;
    }
  if (m->cap == 0)
    return;
  gsize i = recmap_home (m, key);
  for (;; i = (i + 1) & (m->cap - 1))
    {
      guint64 k = recmap_key (m, i);
      if (k == key)
        break;
      if (k == RECMAP_EMPTY)
        return;
    }
  /* shift later records of the run back into the hole when their home
   * does not lie cyclically in (hole, their slot] */
  gsize hole = i;
  for (gsize j = (i + 1) & (m->cap - 1); recmap_key (m, j) != RECMAP_EMPTY; j = (j + 1) & (m->cap - 1))
    {
      gsize home = recmap_home (m, recmap_key (m, j));
      gboolean stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!stays)
        {
          memcpy (m->slots + hole * m->size, m->slots + j * m->size, m->size);
          hole = j;
        }
    }
  recmap_set_key (m, hole, RECMAP_EMPTY);
  m->n--;
}

/* Calls fn on every record. */
static void
recmap_foreach (const RecMap *m, void (*fn) (gconstpointer rec, gpointer data), gpointer data)
{
  for (gsize i = 0; i < m->cap; i++)
    if (recmap_key (m, i) != RECMAP_EMPTY)
      fn (m->slots + i * m->size, data);
  if (m->has_empty_key)
    fn (m->empty_key_rec, data);
}

typedef struct {
  guint32 wallet;
  guint32 hold;
} RiderAccounts;

typedef struct {
  gint64  booking;   /* key: first member */
  guint32 rider;
  gint64  amount;
  gint64  tx;
} HoldRec;

typedef struct {
  guint32 rider;
  guint32 present;   /* 0: no capture (a free slot of the dense array) */
  gint64  captured;  /* net of refunds */
} CaptureRec;

/* A capture of a booking id beyond the dense array's reach. */
typedef struct {
  gint64     booking;   /* key */
  CaptureRec c;
} CaptureFar;

/* Idempotency keys: one 8-byte slot per key in an open-addressed table
 * (linear probing, at most 70% full, sized up front by
 * ft_payments_expect), holding the high 32 bits of the key's hash and its
 * transaction's index + 1 (0: a free slot). The transaction keeps the
 * whole hash and the arguments' hash, so a slot whose 32 bits match is
 * confirmed there (a fresh key, the usual case, reads one slot and no
 * transaction), and a run's keys take half the memory of (hash, tx) pairs. */
typedef struct {
  guint64 *slots;
  gsize    cap, n;
} IdemMap;

/* Keys that name a booking ("bk<id>-…", as booking and the core write
 * theirs: a hold's, its top-up's, a capture's) are kept with the booking
 * they name instead: up to three slots (as the table's: fingerprint and
 * transaction index + 1, filled in order) in an array indexed by that id,
 * so a request's keys sit beside the recent ones and checking a fresh key
 * reads a line that is already loaded, not a random slot of a table of a
 * whole run's keys. Which index holds a key follows from its text alone,
 * so every call still sees every key: a fourth key of a booking, a key of
 * an id beyond the array's reach, and every key after a rebuild (which
 * knows only hashes) go to the table, which a booking's full slots or a
 * rebuild send the search on to. */
#define BK_SLOTS 3
typedef struct {
  guint64 slot[BK_SLOTS];
} BookingKeys;

/* Without the ledger's journal (a run that keeps summary records) no
 * transaction keeps hashes, so a key is kept whole: its hash, its
 * arguments' hash, its transaction and kind. Keys that name a booking go
 * to that booking's entry in a map of the bookings still kept (up to
 * BK_FULL_SLOTS, enough for a trip's hold, the hold's top-up, its capture
 * and incentive; more go to the key map, counted), which
 * ft_payments_forget_booking drops with the booking's capture: what a run
 * keeps is bounded by the bookings open at once, not by its length. */
#define BK_FULL_SLOTS 4
typedef struct {
  guint64 idem;      /* key of the key map's records: first member */
  guint64 args;
  guint32 tx;
  guint32 kind;
} FullKey;

typedef struct {
  FullKey k;         /* first member: k.idem is the key */
  gint64  scope;     /* the booking the key names, or -1 */
} FullKeyRec;

typedef struct {
  gint64     booking;   /* key */
  guint32    n_over;    /* its keys in the key map */
  guint32    pad;
  CaptureRec c;         /* its capture (c.present), kept with its keys */
  FullKey    key[BK_FULL_SLOTS];   /* filled in order; idem 0: free */
} BookingFullKeys;
/* two cache lines, the pool 128-byte aligned: a capture reads its keys
 * and then its capture in a pair of lines the hardware loads together */
G_STATIC_ASSERT (sizeof (BookingFullKeys) == 128);

/* BookingFullKeys by booking id: booking ids are given in order and a run
 * keeps few at once, so a record lives in a pool (slots reused, the last
 * freed first), found through a ring of slots over the window of ids
 * [low, high) (-1: none; every entry outside the window is -1), which
 * moves on past ids without a record and doubles when the oldest kept id
 * is that far behind: a request reads an entry near the recent ones and a
 * record in a pool of the open bookings', where a hash table of them
 * probed a random line. An id far behind the window or far ahead of it
 * (another caller's numbering) goes to a map. */
typedef struct {
  BookingFullKeys *pool;
  guint    n_pool, cap, n_free;
  gint32  *free;
  gint32  *ring;
  guint    mask;      /* ring size - 1 */
  gint64   low, high;
  RecMap   far;       /* booking -> BookingFullKeys */
} BkWindow;

static void
bkw_init (BkWindow *w)
{
  memset (w, 0, sizeof *w);
  recmap_init (&w->far, sizeof (BookingFullKeys));
}

static void
bkw_clear (BkWindow *w)
{
  g_aligned_free (w->pool);
  g_free (w->free);
  g_free (w->ring);
  recmap_clear (&w->far);
  bkw_init (w);
}

static inline BookingFullKeys *
bkw_lookup (const BkWindow *w, gint64 id)
{
  if (id >= w->low && id < w->high)
    {
      gint32 s = w->ring[id & w->mask];
      if (s >= 0)
        return &w->pool[s];
    }
  if (w->far.n == 0 && !w->far.has_empty_key)
    return NULL;
  return recmap_lookup (&w->far, (guint64) id);
}

/* Doubles the ring. */
static void
bkw_grow (BkWindow *w)
{
  guint size = (w->mask + 1) * 2, mask = size - 1;
  gint32 *ring = g_new (gint32, size);
  for (guint i = 0; i < size; i++)
    ring[i] = -1;
  for (gint64 i = w->low; i < w->high; i++)
    ring[i & mask] = w->ring[i & w->mask];
  g_free (w->ring);
  w->ring = ring;
  w->mask = mask;
}

/* Whether the ring takes id (moving the window on to it when it is not
 * far past high, or back to it when it is not far behind low: a
 * reservation unlocked after later bookings were paid for). */
static gboolean
bkw_reach (BkWindow *w, gint64 id)
{
  if (id < 0 || id >= G_MAXINT32)
    return FALSE;
  if (w->ring == NULL)
    {
      w->mask = 1023;
      w->ring = g_new (gint32, w->mask + 1);
      for (guint i = 0; i <= w->mask; i++)
        w->ring[i] = -1;
      w->low = w->high = id;
    }
  if (id < w->low)
    {
      if (w->high - id > 4 * ((gint64) w->mask + 1) + 4096)
        return FALSE;   /* far behind: the map */
      while (w->high - 1 - id > (gint64) w->mask)
        bkw_grow (w);
      w->low = id;   /* the entries from id to low are -1: outside the window */
      return TRUE;
    }
  if (id < w->high)
    return TRUE;
  if (id - w->high > 4096 + (gint64) w->mask)
    return FALSE;   /* far ahead: another numbering */
  while (id - w->low > (gint64) w->mask)
    {
      if (w->low == w->high)
        {
          w->low = w->high = id;   /* nothing kept: the window starts over */
          break;
        }
      if (w->ring[w->low & w->mask] < 0)
        {
          w->low++;
          continue;
        }
      bkw_grow (w);
    }
  w->high = id + 1;
  return TRUE;
}

/* The record of id, added (zeroed but for the key) when absent. */
static BookingFullKeys *
bkw_insert (BkWindow *w, gint64 id)
{
  BookingFullKeys *bk = bkw_lookup (w, id);
  if (bk != NULL)
    return bk;
  if (!bkw_reach (w, id))
    return recmap_insert (&w->far, (guint64) id);
  gint32 s;
  if (w->n_free > 0)
    s = w->free[--w->n_free];
  else
    {
      if (w->n_pool == w->cap)
        {
          w->cap = MAX (64, w->cap * 2);
          BookingFullKeys *pool = g_aligned_alloc (w->cap, sizeof (BookingFullKeys), 128);
          if (w->n_pool > 0)
            memcpy (pool, w->pool, (gsize) w->n_pool * sizeof (BookingFullKeys));
          g_aligned_free (w->pool);
          w->pool = pool;
          w->free = g_renew (gint32, w->free, w->cap);
        }
      s = (gint32) w->n_pool++;
    }
  w->ring[id & w->mask] = s;
  bk = &w->pool[s];
  memset (bk, 0, sizeof *bk);
  bk->booking = id;
  return bk;
}

static void
bkw_remove (BkWindow *w, gint64 id)
{
  if (id >= w->low && id < w->high && w->ring[id & w->mask] >= 0)
    {
      w->free[w->n_free++] = w->ring[id & w->mask];
      w->ring[id & w->mask] = -1;
      return;
    }
  if (w->far.n != 0 || w->far.has_empty_key)
    recmap_remove (&w->far, (guint64) id);
}

static inline void
bkw_prefetch (const BkWindow *w, gint64 id)
{
  if (id >= w->low && id < w->high)
    {
      gint32 s = w->ring[id & w->mask];
      if (s >= 0)
        {
          __builtin_prefetch (&w->pool[s]);
          __builtin_prefetch ((const char *) &w->pool[s] + 64);
        }
    }
}

struct _FtPayments {
  FtLedger     *ledger;      /* borrowed */
  FtPayProvider provider;    /* owned */
  gint64        auto_topup;
  GArray       *riders;      /* RiderAccounts, lazily filled */
  /* while the ledger's codes generation equals this, every rider account
   * in the ledger is in riders (payments opened them all): a rider's slot
   * without one means the ledger has none, with no lookup by code */
  guint64       riders_gen;
  guint32       clearing, revenue, refunds, incentives;
  RecMap        holds;       /* booking -> HoldRec */
  /* booking -> CaptureRec: booking ids are dense (FtBooking numbers them
   * 0, 1, 2...), so captures live in an array indexed by id, and a capture
   * is written next to the recent ones instead of at a random slot of a
   * table; an id far beyond the array (another caller's numbering) goes to
   * captures_far. */
  GArray       *captures;    /* CaptureRec, index == booking id */
  RecMap        captures_far;  /* booking -> CaptureFar */
  gsize         huge_captures; /* ft_mem_hint_huge: bytes of captures advised */
  IdemMap       idem;        /* idem hash -> tx */
  GArray       *bkeys;       /* BookingKeys, index == the booking a key names */
  gsize         huge_bkeys;  /* ft_mem_hint_huge: bytes of bkeys advised */
  gboolean      idem_rebuilt;  /* keys that name a booking may be in the table */
  gint64        bk_far_from;   /* the lowest booking whose key went to the table
                                * for lying beyond the array, or G_MAXINT64 */
  guint8        journal_mode;  /* 0: not known yet, 1: the ledger keeps its
                                * journal, 2: not (fixed once it has a tx) */
  /* without the ledger's journal: whole keys (idem, bkeys unused) */
  RecMap        keys_full;     /* idem -> FullKeyRec */
  BkWindow      bk_full;       /* booking -> BookingFullKeys */
  guint64      *gone;          /* a bit per booking id forgotten (ft_payments_forget_booking) */
  gsize         gone_words;
  guint64       n_declines;
  guint         n_overrefunded; /* bookings whose net capture went below 0 */
  guint         last_latency_ms;
  guint64       total_latency_ms;
};

/* Whether the ledger keeps no journal (asked once it can no longer
 * change: the ledger has a transaction). */
static inline gboolean
no_journal (const FtPayments *cp)
{
  FtPayments *p = (FtPayments *) cp;   /* only the cache is written */
  if (G_LIKELY (p->journal_mode != 0))
    return p->journal_mode == 2;
  gboolean none = !ft_ledger_has_journal (p->ledger);
  if (ft_ledger_n_tx (p->ledger) > 0)
    p->journal_mode = none ? 2 : 1;
  return none;
}

/* The capture record of `booking`, or NULL. */
static CaptureRec *
capture_get (FtPayments *p, gint64 booking)
{
  if (no_journal (p))
    {
      BookingFullKeys *bk = bkw_lookup (&p->bk_full, booking);
      return bk != NULL && bk->c.present ? &bk->c : NULL;
    }
  if (booking >= 0 && (guint64) booking < p->captures->len)
    {
      CaptureRec *c = &g_array_index (p->captures, CaptureRec, booking);
      if (c->present)
        return c;
    }
  if (p->captures_far.n == 0 && !p->captures_far.has_empty_key)
    return NULL;
  CaptureFar *f = recmap_lookup (&p->captures_far, (guint64) booking);
  return f != NULL ? &f->c : NULL;
}

/* Adds the (absent) capture record of `booking`, zeroed but present. */
static CaptureRec *
capture_add (FtPayments *p, gint64 booking)
{
  CaptureRec *c;
  guint len = p->captures->len;
  /* without the journal a capture lives only while its booking is kept
   * (ft_payments_forget_booking): with its keys, not in an array of every
   * id */
  if (no_journal (p))
    c = &bkw_insert (&p->bk_full, booking)->c;
  else if (booking >= 0 && (guint64) booking < (guint64) len * 2 + 4096 && booking < G_MAXINT32)
    {
      if ((guint) booking >= len)
        {
          g_array_set_size (p->captures, (guint) booking + 1);   /* zeroed: not present */
          ft_mem_hint_huge (p->captures->data, p->captures->len * sizeof (CaptureRec), &p->huge_captures);
        }
      c = &g_array_index (p->captures, CaptureRec, booking);
    }
  else
    c = &((CaptureFar *) recmap_insert (&p->captures_far, (guint64) booking))->c;
  memset (c, 0, sizeof *c);
  c->present = 1;
  return c;
}

typedef enum {
  OP_TOPUP = 1, OP_HOLD, OP_CAPTURE, OP_RELEASE, OP_REFUND, OP_SETTLE, OP_HOLD_TOPUP, OP_INCENTIVE,
} Op;

/* ---------------------------------------------------------------- */
/* simulated card provider                                          */

typedef struct {
  guint64     s[4];          /* xoshiro256** state */
  double      decline_rate;
  guint       lat_min, lat_max;
  RecMap      approved;      /* idem key hashes already approved (key-only records) */
} SimCard;

static guint64
rotl64 (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

static guint64
sim_next (SimCard *c)
{
  guint64 *s = c->s;
  guint64 result = rotl64 (s[1] * 5, 7) * 9;
  guint64 t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl64 (s[3], 45);
  return result;
}

static double
sim_uniform (SimCard *c)
{
  return (double) (sim_next (c) >> 11) * 0x1.0p-53;
}

static FtPayResult
sim_card_charge (gpointer self, guint rider, gint64 amount, const char *currency,
                 const char *idem_key, FtTime now, guint *latency_ms)
{
  SimCard *c = self;
  guint span = c->lat_max - c->lat_min;
  guint lat = c->lat_min + (guint) (sim_uniform (c) * ((double) span + 1.0));
  if (lat > c->lat_max)
    lat = c->lat_max;
  if (latency_ms != NULL)
    *latency_ms = lat;

  guint64 h = idem_key != NULL ? ft_hash_string64 (idem_key) : 0;
  if (h != 0 && recmap_lookup (&c->approved, h) != NULL)
    return FT_PAY_APPROVED;       /* the acquirer deduplicates retried charges */

  if (amount <= 0)
    return FT_PAY_ERROR;
  if (sim_uniform (c) < c->decline_rate)
    return FT_PAY_DECLINED;
  if (h != 0)
    recmap_insert (&c->approved, h);
  return FT_PAY_APPROVED;
}

static void
sim_card_free (gpointer self)
{
  SimCard *c = self;
  recmap_clear (&c->approved);
  g_free (c);
}

static const FtPayProviderVTable sim_card_vtable = {
  .charge = sim_card_charge,
  .free = sim_card_free,
};

FtPayProvider
ft_sim_card_provider_new (guint64 seed, double decline_rate,
                          guint latency_min_ms, guint latency_max_ms)
{
  FtPayProvider none = { NULL, NULL };
  g_return_val_if_fail (decline_rate >= 0.0 && decline_rate <= 1.0, none);
  g_return_val_if_fail (latency_min_ms <= latency_max_ms, none);

  SimCard *c = g_new0 (SimCard, 1);
  guint64 x = seed;
  for (int i = 0; i < 4; i++)
    {
      x += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
      c->s[i] = ft_mix64 (x);
    }
  if ((c->s[0] | c->s[1] | c->s[2] | c->s[3]) == 0)
    c->s[0] = 1;
  c->decline_rate = decline_rate;
  c->lat_min = latency_min_ms;
  c->lat_max = latency_max_ms;
  recmap_init (&c->approved, sizeof (guint64));
  FtPayProvider p = { &sim_card_vtable, c };
  return p;
}

/* ---------------------------------------------------------------- */
/* construction                                                     */

FtPayments *
ft_payments_new (FtLedger *ledger, FtPayProvider provider)
{
  g_return_val_if_fail (ledger != NULL, NULL);

  FtPayments *p = g_new0 (FtPayments, 1);
  p->ledger = ledger;
  p->provider = provider;
  p->riders = g_array_new (FALSE, FALSE, sizeof (RiderAccounts));
  /* a ledger that already has accounts may have riders': look them up */
  p->riders_gen = ft_ledger_n_accounts (ledger) == 0 ? ft_ledger_codes_generation (ledger) : G_MAXUINT64;
  p->clearing = p->revenue = p->refunds = p->incentives = NO_ACC;
  recmap_init (&p->holds, sizeof (HoldRec));
  p->captures = g_array_new (FALSE, TRUE, sizeof (CaptureRec));
  recmap_init (&p->captures_far, sizeof (CaptureFar));
  p->bkeys = g_array_new (FALSE, TRUE, sizeof (BookingKeys));
  p->bk_far_from = G_MAXINT64;
  recmap_init (&p->keys_full, sizeof (FullKeyRec));
  bkw_init (&p->bk_full);
  return p;
}

void
ft_payments_free (FtPayments *p)
{
  if (p == NULL)
    return;
  if (p->provider.vtable != NULL && p->provider.vtable->free != NULL)
    p->provider.vtable->free (p->provider.self);
  g_array_unref (p->riders);
  recmap_clear (&p->holds);
  g_array_unref (p->captures);
  recmap_clear (&p->captures_far);
  g_free (p->idem.slots);
  g_array_unref (p->bkeys);
  recmap_clear (&p->keys_full);
  bkw_clear (&p->bk_full);
  g_free (p->gone);
  g_free (p);
}

FtLedger *
ft_payments_get_ledger (FtPayments *p)
{
  g_return_val_if_fail (p != NULL, NULL);
  return p->ledger;
}

void
ft_payments_set_auto_topup (FtPayments *p, gint64 amount_minor)
{
  g_return_if_fail (p != NULL);
  g_return_if_fail (amount_minor >= 0);
  p->auto_topup = amount_minor;
}

guint64
ft_payments_n_declines (FtPayments *p)
{
  g_return_val_if_fail (p != NULL, 0);
  return p->n_declines;
}

guint
ft_payments_last_latency_ms (FtPayments *p)
{
  g_return_val_if_fail (p != NULL, 0);
  return p->last_latency_ms;
}

guint64
ft_payments_total_latency_ms (FtPayments *p)
{
  g_return_val_if_fail (p != NULL, 0);
  return p->total_latency_ms;
}

/* ---------------------------------------------------------------- */
/* accounts                                                         */

/* ft_ledger_account, keeping riders_gen true: an account payments opens
 * itself is a shared one or a rider's it caches at once. */
static guint32
own_account (FtPayments *p, const char *code, FtLedgerAccountType type, gint32 owner)
{
  gboolean known = ft_ledger_codes_generation (p->ledger) == p->riders_gen;
  guint32 a = ft_ledger_account (p->ledger, code, type, owner);
  if (known)
    p->riders_gen = ft_ledger_codes_generation (p->ledger);
  return a;
}

static guint32
shared_account (FtPayments *p, guint32 *cache, const char *code, FtLedgerAccountType type)
{
  if (*cache == NO_ACC)
    *cache = own_account (p, code, type, -1);
  return *cache;
}

static guint32 clearing_acc (FtPayments *p)
{ return shared_account (p, &p->clearing, "clearing:card", FT_LACC_ASSET); }
static guint32 revenue_acc (FtPayments *p)
{ return shared_account (p, &p->revenue, "revenue:rides", FT_LACC_REVENUE); }
static guint32 refunds_acc (FtPayments *p)
{ return shared_account (p, &p->refunds, "expense:refunds", FT_LACC_EXPENSE); }
static guint32 incentives_acc (FtPayments *p)
{ return shared_account (p, &p->incentives, "expense:incentives", FT_LACC_EXPENSE); }

/* "hold:<rider>" or "wallet:<rider>", as g_snprintf with "%u" writes it
 * (asked for each request of a rider who has no accounts yet) */
static void
rider_code (char out[40], guint rider, gboolean hold)
{
  char tmp[10];
  int n = 0;
  char *o = out;
  for (const char *s = hold ? "hold:" : "wallet:"; *s; s++)
    *o++ = *s;
  do
    tmp[n++] = (char) ('0' + rider % 10);
  while ((rider /= 10) != 0);
  while (n > 0)
    *o++ = tmp[--n];
  *o = '\0';
}

/* Returns the rider's wallet or hold account, creating it when `create`;
 * NO_ACC if it does not exist and create is FALSE. */
static guint32
rider_account (FtPayments *p, guint rider, gboolean hold, gboolean create)
{
  if (rider >= p->riders->len)
    {
      if (!create)
        {
          if (ft_ledger_codes_generation (p->ledger) == p->riders_gen)
            return NO_ACC;   /* the ledger has none: it would be cached */
          /* Not cached yet; it may still exist in a restored ledger. */
          char code[40];
          rider_code (code, rider, hold);
          guint idx;
          return ft_ledger_lookup (p->ledger, code, &idx) ? idx : NO_ACC;
        }
      guint old = p->riders->len;
      g_array_set_size (p->riders, rider + 1);
      for (guint i = old; i <= rider; i++)
        g_array_index (p->riders, RiderAccounts, i) = (RiderAccounts) { NO_ACC, NO_ACC };
    }
  RiderAccounts *ra = &g_array_index (p->riders, RiderAccounts, rider);
  guint32 *slot = hold ? &ra->hold : &ra->wallet;
  if (*slot == NO_ACC && (create || ft_ledger_codes_generation (p->ledger) != p->riders_gen))
    {
      char code[40];
      rider_code (code, rider, hold);
      guint idx;
      if (create)   /* the code's account, found or (when absent) opened */
        *slot = own_account (p, code, FT_LACC_LIABILITY, (gint32) rider);
      else if (ft_ledger_lookup (p->ledger, code, &idx))
        *slot = idx;
    }
  return *slot;
}

void
ft_payments_prefetch_rider (FtPayments *p, guint rider)
{
  if (p == NULL || rider >= p->riders->len)
    return;
  const RiderAccounts *ra = &g_array_index (p->riders, RiderAccounts, rider);
  if (ra->wallet != NO_ACC)
    ft_ledger_prefetch_account (p->ledger, ra->wallet);
  if (ra->hold != NO_ACC)
    ft_ledger_prefetch_account (p->ledger, ra->hold);
}

void
ft_payments_prefetch_booking (FtPayments *p, gint64 booking)
{
  if (p == NULL || booking < 0)
    return;
  if (p->holds.cap != 0)
    __builtin_prefetch (p->holds.slots + recmap_home (&p->holds, (guint64) booking) * p->holds.size);
  if (p->journal_mode == 2)
    bkw_prefetch (&p->bk_full, booking);
}

gint64
ft_payments_wallet (FtPayments *p, guint rider)
{
  g_return_val_if_fail (p != NULL, 0);
  guint32 a = rider_account (p, rider, FALSE, FALSE);
  return a == NO_ACC ? 0 : -ft_ledger_balance (p->ledger, a);
}

gint64
ft_payments_held (FtPayments *p, guint rider)
{
  g_return_val_if_fail (p != NULL, 0);
  guint32 a = rider_account (p, rider, TRUE, FALSE);
  return a == NO_ACC ? 0 : -ft_ledger_balance (p->ledger, a);
}

gint64
ft_payments_captured (FtPayments *p, gint64 booking)
{
  g_return_val_if_fail (p != NULL, 0);
  CaptureRec *c = capture_get (p, booking);
  return c != NULL ? c->captured : 0;
}

gboolean
ft_payments_has_debt (FtPayments *p, guint rider)
{
  g_return_val_if_fail (p != NULL, FALSE);
  return ft_payments_wallet (p, rider) < 0;
}

gboolean
ft_payments_has_hold (FtPayments *p, gint64 booking)
{
  g_return_val_if_fail (p != NULL, FALSE);
  return recmap_lookup (&p->holds, (guint64) booking) != NULL;
}

/* ---------------------------------------------------------------- */
/* idempotency                                                      */

static guint64
key_hash (const char *idem_key)
{
  if (idem_key == NULL || idem_key[0] == '\0')
    return 0;
  guint64 h = ft_hash_string64 (idem_key);
  return h != 0 ? h : 1;
}

static guint64
args_hash (Op op, guint rider, gint64 amount, gint64 booking)
{
  guint64 h = ft_mix64 ((guint64) op * G_GUINT64_CONSTANT (0x100000001B3));
  h = ft_mix64 (h ^ (guint64) rider);
  h = ft_mix64 (h ^ (guint64) amount);
  h = ft_mix64 (h ^ (guint64) booking);
  return h;
}

/* The key of the top-up a hold makes on its own behalf. */
static guint64
derived_topup_hash (guint64 idem)
{
  if (idem == 0)
    return 0;
  guint64 h = ft_mix64 (idem ^ G_GUINT64_CONSTANT (0x746F7075702D686F));
  return h != 0 ? h : 1;
}

/* The booking a key names ("bk<digits>-…"), or -1. */
static gint64
key_scope (const char *idem_key)
{
  if (idem_key == NULL || idem_key[0] != 'b' || idem_key[1] != 'k')
    return -1;
  const char *c = idem_key + 2;
  gint64 id = 0;
  if (*c < '0' || *c > '9')
    return -1;
  for (; *c >= '0' && *c <= '9'; c++)
    {
      id = id * 10 + (*c - '0');
      if (id >= G_MAXINT32)
        return -1;
    }
  return *c == '-' ? id : -1;
}

/* The slots of keys naming booking `scope`, or NULL beyond the array. */
static inline BookingKeys *
bkeys_at (const FtPayments *p, gint64 scope)
{
  if (scope < 0 || (guint64) scope >= p->bkeys->len)
    return NULL;
  return &g_array_index (p->bkeys, BookingKeys, scope);
}

/* The key hash transaction tx keeps (with or without the ledger's journal). */
static inline guint64
tx_idem (const FtPayments *p, gint64 tx)
{
  guint64 idem;
  ft_ledger_tx_hashes (p->ledger, (guint) tx, &idem, NULL);
  return idem;
}

static inline gsize
idem_home (const IdemMap *m, guint64 idem)
{
  return (gsize) ft_mix64 (idem) & (m->cap - 1);
}

/* The index of `idem`'s transaction, or -1 (a slot with its 32 bits whose
 * transaction holds another hash is passed over). */
static gint64
idemmap_lookup (const FtPayments *p, guint64 idem)
{
  const IdemMap *m = &p->idem;
  if (m->n == 0)
    return -1;
  guint32 fp = (guint32) (idem >> 32);
  for (gsize i = idem_home (m, idem);; i = (i + 1) & (m->cap - 1))
    {
      guint64 s = m->slots[i];
      if (s == 0)
        return -1;
      if ((guint32) (s >> 32) == fp)
        {
          gint64 tx = (gint64) (s & G_MAXUINT32) - 1;
          if (tx_idem (p, tx) == idem)
            return tx;
        }
    }
}

/* Puts `idem` -> tx in the first free slot from its home (or over its own
 * slot); the map has room. */
static void
idemmap_put (FtPayments *p, guint64 idem, gint64 tx)
{
  IdemMap *m = &p->idem;
  guint32 fp = (guint32) (idem >> 32);
  g_assert (tx >= 0 && tx < (gint64) G_MAXUINT32);
  guint64 slot = ((guint64) fp << 32) | (guint64) (tx + 1);
  for (gsize i = idem_home (m, idem);; i = (i + 1) & (m->cap - 1))
    {
      guint64 s = m->slots[i];
      if (s == 0)
        {
          m->slots[i] = slot;
          m->n++;
          return;
        }
      if ((guint32) (s >> 32) == fp
          && tx_idem (p, (gint64) (s & G_MAXUINT32) - 1) == idem)
        {
          m->slots[i] = slot;
          return;
        }
    }
}

/* Makes room for n keys in all: a new table, the keys moved over (their
 * hashes read from their transactions). */
static void
idemmap_resize (FtPayments *p, gsize n)
{
  IdemMap *m = &p->idem;
  gsize cap = 64;
  while (10 * n > 7 * cap)
    cap *= 2;
  if (cap <= m->cap)
    return;
  guint64 *old = m->slots;
  gsize old_cap = m->cap;
  m->slots = g_malloc (cap * sizeof (guint64));
  if (cap * sizeof (guint64) >= (4u << 20))
    ft_mem_advise_huge (m->slots);   /* before the zeroing below touches it */
  memset (m->slots, 0, cap * sizeof (guint64));
  m->cap = cap;
  m->n = 0;
  for (gsize i = 0; i < old_cap; i++)
    if (old[i] != 0)
      {
        gint64 tx = (gint64) (old[i] & G_MAXUINT32) - 1;
        idemmap_put (p, tx_idem (p, tx), tx);
      }
  g_free (old);
}

/* The index of the transaction of `idem` (a key naming booking `scope`,
 * or -1), or -1: its booking's slots, then the table when the key may be
 * there. */
static gint64
idem_lookup (const FtPayments *p, guint64 idem, gint64 scope)
{
  const BookingKeys *k = bkeys_at (p, scope);
  if (k != NULL)
    {
      guint32 fp = (guint32) (idem >> 32);
      for (guint i = 0; i < BK_SLOTS; i++)
        {
          guint64 s = k->slot[i];
          if (s == 0)   /* slots fill in order: the booking's later keys are not in the table */
            return p->idem_rebuilt || scope >= p->bk_far_from ? idemmap_lookup (p, idem) : -1;
          if ((guint32) (s >> 32) == fp)
            {
              gint64 tx = (gint64) (s & G_MAXUINT32) - 1;
              if (tx_idem (p, tx) == idem)
                return tx;
            }
        }
    }
  return idemmap_lookup (p, idem);
}

/* Starts loading where the key will be looked for: a fresh key's probe
 * of the table is a cache miss in a table of a whole run's keys, so a
 * caller asks for it first and reads what else it needs (wallet, hold)
 * while the line comes in. */
static inline void
idem_prefetch (const FtPayments *p, guint64 idem, gint64 scope)
{
  const BookingKeys *k = bkeys_at (p, scope);
  if (k != NULL)
    __builtin_prefetch (k);
  else if (scope >= 0 && p->bk_full.ring != NULL)
    bkw_prefetch (&p->bk_full, scope);
  else if (idem != 0 && p->idem.n != 0)
    __builtin_prefetch (&p->idem.slots[idem_home (&p->idem, idem)]);
}

/* Without the journal: the whole key `idem` (naming booking `scope`, or
 * -1), or NULL. */
static const FullKey *
full_lookup (const FtPayments *p, guint64 idem, gint64 scope)
{
  if (scope >= 0)
    {
      const BookingFullKeys *bk = bkw_lookup (&p->bk_full, scope);
      for (guint i = 0; bk != NULL && i < BK_FULL_SLOTS && bk->key[i].idem != 0; i++)
        if (bk->key[i].idem == idem)
          return &bk->key[i];
    }
  if (p->keys_full.n == 0 && !p->keys_full.has_empty_key)
    return NULL;
  const FullKeyRec *r = recmap_lookup (&p->keys_full, idem);
  return r != NULL ? &r->k : NULL;
}

/* Without the journal: remembers the whole key. */
static void
full_remember (FtPayments *p, guint64 idem, gint64 scope, guint64 args, FtTxKind kind, gint64 tx)
{
  g_assert (tx >= 0 && tx < (gint64) G_MAXUINT32);
  FullKey k = { idem, args, (guint32) tx, (guint32) kind };
  if (scope >= 0)
    {
      BookingFullKeys *bk = bkw_insert (&p->bk_full, scope);
      for (guint i = 0; i < BK_FULL_SLOTS; i++)
        if (bk->key[i].idem == 0 || bk->key[i].idem == idem)
          {
            bk->key[i] = k;
            return;
          }
      bk->n_over++;   /* may count a key twice: forget then looks for none */
    }
  FullKeyRec *r = recmap_insert (&p->keys_full, idem);
  r->k = k;
  r->scope = scope;
}

static void
over_of (gconstpointer rec, gpointer data)
{
  const FullKeyRec *r = rec;
  GArray *a = data;
  if (r->scope == g_array_index (a, gint64, 0))
    g_array_append_val (a, r->k.idem);
}

/* TRUE if the key was seen: *tx_out gets the original tx id (>= 0) or -1
 * with an error when the arguments differ. */
static gboolean
idem_seen (FtPayments *p, guint64 idem, gint64 scope, guint64 args, const char *idem_key,
           gint64 *tx_out, GError **error)
{
  if (idem == 0)
    return FALSE;
  gint64 id;
  guint64 tx_args;
  FtTxKind kind;
  if (no_journal (p))
    {
      const FullKey *fk = full_lookup (p, idem, scope);
      if (fk == NULL)
        return FALSE;
      id = fk->tx;
      tx_args = fk->args;
      kind = (FtTxKind) fk->kind;
    }
  else
    {
      id = idem_lookup (p, idem, scope);
      if (id < 0)
        return FALSE;
      kind = ft_ledger_tx_hashes (p->ledger, (guint) id, NULL, &tx_args);
    }
  if (tx_args != args)
    {
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_IDEMPOTENCY,
                   "idempotency key \"%s\" was already used for %s transaction %" G_GINT64_FORMAT
                   " with other arguments; use a new key for a new operation",
                   idem_key, ft_tx_kind_name (kind), id);
      *tx_out = -1;
      return TRUE;
    }
  *tx_out = id;
  return TRUE;
}

/* Remembers the key of transaction tx (whose hashes the ledger keeps),
 * a key naming booking `scope` (or -1) in that booking's slots while
 * they have room. */
static void
idem_remember (FtPayments *p, guint64 idem, gint64 scope, gint64 tx)
{
  if (idem == 0)
    return;
  if (scope >= 0)
    {
      guint len = p->bkeys->len;
      if ((guint64) scope >= len && (guint64) scope < (guint64) len * 2 + 4096)
        {
          g_array_set_size (p->bkeys, (guint) scope + 1);   /* zeroed: free slots */
          ft_mem_hint_huge (p->bkeys->data, p->bkeys->len * sizeof (BookingKeys), &p->huge_bkeys);
        }
      BookingKeys *k = bkeys_at (p, scope);
      if (k != NULL)
        {
          g_assert (tx >= 0 && tx < (gint64) G_MAXUINT32);
          for (guint i = 0; i < BK_SLOTS; i++)
            if (k->slot[i] == 0)
              {
                k->slot[i] = (idem >> 32 << 32) | (guint64) (tx + 1);
                return;
              }
        }
      else   /* the array may reach it later: its search goes on to the table */
        p->bk_far_from = MIN (p->bk_far_from, scope);
    }
  if (10 * (p->idem.n + 1) > 7 * p->idem.cap)
    idemmap_resize (p, MAX (p->idem.n + 1, p->idem.cap));
  idemmap_put (p, idem, tx);
}

/* ---------------------------------------------------------------- */
/* posting helpers                                                  */

static gint64
post (FtPayments *p, FtTxKind kind, FtTime now, guint rider, gint64 amount, gint64 ref,
      guint64 idem, gint64 scope, guint64 args, FtPosting *ps, guint n, GError **error)
{
  /* Drop zero legs (the ledger refuses them). */
  guint k = 0;
  for (guint i = 0; i < n; i++)
    if (ps[i].amount != 0)
      ps[k++] = ps[i];
  gint64 tx = ft_ledger_post (p->ledger, kind, now, (gint32) rider, amount, ref, idem, args,
                              ps, k, error);
  if (tx >= 0 && idem != 0 && no_journal (p))
    full_remember (p, idem, scope, args, kind, tx);
  else if (tx >= 0)
    idem_remember (p, idem, scope, tx);
  return tx;
}

static gboolean
check_amount (FtPayments *p, gint64 amount, gboolean allow_zero, const char *what,
              GError **error)
{
  if (amount < 0 || (amount == 0 && !allow_zero))
    {
      g_autofree char *s = ft_money_format (amount, ft_ledger_currency (p->ledger));
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID,
                   "%s amount must be %s, got %s", what,
                   allow_zero ? "zero or more" : "positive", s);
      return FALSE;
    }
  if (amount > G_GINT64_CONSTANT (1) << 52)
    {
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID,
                   "%s amount %" G_GINT64_FORMAT " is beyond any plausible payment", what,
                   amount);
      return FALSE;
    }
  return TRUE;
}

/* Charges the card; FALSE with DECLINED/PROVIDER error (and a decline event)
 * if the money did not come in. */
static gboolean
charge_card (FtPayments *p, guint rider, gint64 amount, const char *key, FtTime now,
             GError **error)
{
  const char *cur = ft_ledger_currency (p->ledger);
  if (p->provider.vtable == NULL || p->provider.vtable->charge == NULL)
    {
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_PROVIDER,
                   "no payment provider is configured; cannot charge rider %u's card", rider);
      return FALSE;
    }
  guint latency = 0;
  FtPayResult r = p->provider.vtable->charge (p->provider.self, rider, amount, cur, key, now,
                                              &latency);
  p->last_latency_ms = latency;
  p->total_latency_ms += latency;
  if (r == FT_PAY_APPROVED)
    return TRUE;

  g_autofree char *s = ft_money_format (amount, cur);
  FtEvent ev = ft_event_init (FT_EV_PAYMENT_DECLINED, now);
  ev.account = (gint32) rider;
  ev.amount = amount;
  ev.a = r;
  ev.b = latency;
  ft_event_log_append (ft_ledger_get_event_log (p->ledger), &ev);
  if (r == FT_PAY_DECLINED)
    {
      p->n_declines++;
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_DECLINED,
                   "the card of rider %u was declined for %s; ask the rider to use another card",
                   rider, s);
    }
  else
    g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_PROVIDER,
                 "the payment provider failed to charge %s to rider %u's card; retry later "
                 "with the same idempotency key", s, rider);
  return FALSE;
}

/* Posts a card top-up (clearing -> wallet). */
static gint64
post_card_in (FtPayments *p, FtTxKind kind, guint rider, gint64 amount, gint64 ref,
              guint64 idem, gint64 scope, guint64 args, FtTime now, GError **error)
{
  FtPosting ps[2] = {
    { (gint32) clearing_acc (p), amount },
    { (gint32) rider_account (p, rider, FALSE, TRUE), -amount },
  };
  return post (p, kind, now, rider, amount, ref, idem, scope, args, ps, 2, error);
}

/* ---------------------------------------------------------------- */
/* operations                                                       */

gint64
ft_payments_topup (FtPayments *p, guint rider, gint64 amount, const char *idem_key,
                   FtTime now, GError **error)
{
  g_return_val_if_fail (p != NULL, -1);
  g_return_val_if_fail (rider <= G_MAXINT32, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  guint64 idem = key_hash (idem_key);
  gint64 scope = key_scope (idem_key);
  guint64 args = args_hash (OP_TOPUP, rider, amount, -1);
  gint64 tx;
  if (idem_seen (p, idem, scope, args, idem_key, &tx, error))
    return tx;
  if (!check_amount (p, amount, FALSE, "top-up", error))
    return -1;
  if (!charge_card (p, rider, amount, idem_key, now, error))
    return -1;
  return post_card_in (p, FT_TX_TOPUP, rider, amount, -1, idem, scope, args, now, error);
}

gint64
ft_payments_settle_debt (FtPayments *p, guint rider, const char *idem_key, FtTime now,
                         GError **error)
{
  g_return_val_if_fail (p != NULL, -1);
  g_return_val_if_fail (rider <= G_MAXINT32, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  /* The debt is derived, not an argument: a retry with the same key after
   * settling returns the settlement. */
  guint64 idem = key_hash (idem_key);
  gint64 scope = key_scope (idem_key);
  guint64 args = args_hash (OP_SETTLE, rider, 0, -1);
  gint64 tx;
  if (idem_seen (p, idem, scope, args, idem_key, &tx, error))
    return tx;
  gint64 debt = -ft_payments_wallet (p, rider);
  if (debt <= 0)
    {
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID,
                   "rider %u owes nothing; there is no debt to settle", rider);
      return -1;
    }
  if (!charge_card (p, rider, debt, idem_key, now, error))
    return -1;
  return post_card_in (p, FT_TX_SETTLE_DEBT, rider, debt, -1, idem, scope, args, now, error);
}

/* Whether booking was forgotten (ft_payments_forget_booking). */
static gboolean
booking_gone (const FtPayments *p, gint64 booking)
{
  return booking >= 0 && (guint64) booking / 64 < p->gone_words
         && (p->gone[booking / 64] >> (booking % 64) & 1);
}

gint64
ft_payments_hold (FtPayments *p, guint rider, gint64 amount, gint64 booking,
                  const char *idem_key, FtTime now, GError **error)
{
  g_return_val_if_fail (p != NULL, -1);
  g_return_val_if_fail (rider <= G_MAXINT32, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  guint64 idem = key_hash (idem_key);
  gint64 scope = key_scope (idem_key);
  idem_prefetch (p, idem, scope);
  guint64 args = args_hash (OP_HOLD, rider, amount, booking);
  /* read (not yet judged) while the key's slot loads */
  gint64 wallet = ft_payments_wallet (p, rider);
  gint64 tx;
  if (idem_seen (p, idem, scope, args, idem_key, &tx, error))
    return tx;
  if (!check_amount (p, amount, FALSE, "hold", error))
    return -1;
  if (booking < 0)
    {
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID,
                   "a hold needs a booking id, got %" G_GINT64_FORMAT, booking);
      return -1;
    }
  HoldRec *open = recmap_lookup (&p->holds, (guint64) booking);
  if (open != NULL)
    {
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID,
                   "booking %" G_GINT64_FORMAT " already has an open hold (transaction %"
                   G_GINT64_FORMAT "); capture or release it first", booking, open->tx);
      return -1;
    }
  if (capture_get (p, booking) != NULL || booking_gone (p, booking))
    {
      /* a forgotten booking was closed (its capture and keys went): a
       * retried hold is not recognised, so it is refused like any hold of
       * a closed booking, never posted twice */
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID,
                   "booking %" G_GINT64_FORMAT " was already %s; a new trip needs a new booking", booking,
                   booking_gone (p, booking) ? "closed and its records released" : "captured");
      return -1;
    }
  const char *cur = ft_ledger_currency (p->ledger);
  if (wallet < 0)
    {
      g_autofree char *s = ft_money_format (-wallet, cur);
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_UNPAID,
                   "rider %u owes %s; settle the debt before starting a trip", rider, s);
      return -1;
    }
  gint64 shortfall = amount - wallet;
  if (shortfall > 0)
    {
      if (p->auto_topup <= 0)
        {
          g_autofree char *need = ft_money_format (amount, cur);
          g_autofree char *have = ft_money_format (wallet, cur);
          g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INSUFFICIENT,
                       "rider %u's wallet has %s but the trip needs a hold of %s; top up first",
                       rider, have, need);
          return -1;
        }
      gint64 charge = MAX (shortfall, p->auto_topup);
      /* "<key>#topup", on the stack when it fits (one per top-up) */
      char sub_buf[96];
      g_autofree char *sub_heap = NULL;
      const char *sub_key = NULL;
      if (idem_key != NULL)
        {
          gsize len = strlen (idem_key);
          if (len + sizeof "#topup" <= sizeof sub_buf)
            {
              memcpy (sub_buf, idem_key, len);
              memcpy (sub_buf + len, "#topup", sizeof "#topup");
              sub_key = sub_buf;
            }
          else
            sub_key = sub_heap = g_strconcat (idem_key, "#topup", NULL);
        }
      guint64 sub_idem = derived_topup_hash (idem);
      guint64 sub_args = args_hash (OP_HOLD_TOPUP, rider, charge, booking);
      if (!charge_card (p, rider, charge, sub_key, now, error))
        return -1;
      if (post_card_in (p, FT_TX_TOPUP, rider, charge, booking, sub_idem, scope, sub_args, now,
                        error) < 0)
        return -1;
    }

  FtPosting ps[2] = {
    { (gint32) rider_account (p, rider, FALSE, TRUE), amount },
    { (gint32) rider_account (p, rider, TRUE, TRUE), -amount },
  };
  tx = post (p, FT_TX_HOLD, now, rider, amount, booking, idem, scope, args, ps, 2, error);
  if (tx < 0)
    return -1;
  HoldRec *h = recmap_insert (&p->holds, (guint64) booking);
  h->rider = rider;
  h->amount = amount;
  h->tx = tx;
  return tx;
}

/* Looks up the open hold of `booking` for `rider`, or sets NO_HOLD. */
static HoldRec *
find_hold (FtPayments *p, guint rider, gint64 booking, const char *what, GError **error)
{
  HoldRec *h = recmap_lookup (&p->holds, (guint64) booking);
  if (h == NULL)
    {
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_NO_HOLD,
                   "cannot %s booking %" G_GINT64_FORMAT ": it has no open hold%s", what, booking,
                   capture_get (p, booking) ? " (already captured)" : "");
      return NULL;
    }
  if (h->rider != rider)
    {
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_NO_HOLD,
                   "cannot %s booking %" G_GINT64_FORMAT " for rider %u: its hold belongs to "
                   "rider %u", what, booking, rider, h->rider);
      return NULL;
    }
  return h;
}

static void
add_captured (FtPayments *p, guint rider, gint64 booking, gint64 delta)
{
  CaptureRec *c = capture_get (p, booking);
  if (c == NULL)
    {
      c = capture_add (p, booking);
      c->rider = rider;
      c->captured = 0;
    }
  gboolean was_neg = c->captured < 0;
  c->captured += delta;
  if (was_neg != (c->captured < 0))
    {
      if (was_neg)
        p->n_overrefunded--;
      else
        p->n_overrefunded++;
    }
}

gint64
ft_payments_capture (FtPayments *p, guint rider, gint64 booking, gint64 price,
                     const char *idem_key, FtTime now, GError **error)
{
  g_return_val_if_fail (p != NULL, -1);
  g_return_val_if_fail (rider <= G_MAXINT32, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  guint64 idem = key_hash (idem_key);
  gint64 scope = key_scope (idem_key);
  idem_prefetch (p, idem, scope);
  guint64 args = args_hash (OP_CAPTURE, rider, price, booking);
  if (rider < p->riders->len)   /* the rider's accounts load meanwhile */
    __builtin_prefetch (&g_array_index (p->riders, RiderAccounts, rider));
  gint64 tx;
  if (idem_seen (p, idem, scope, args, idem_key, &tx, error))
    return tx;
  if (!check_amount (p, price, TRUE, "capture", error))
    return -1;
  HoldRec *h = find_hold (p, rider, booking, "capture", error);
  if (h == NULL)
    return -1;

  /* hold closes (debit), revenue gets the price (credit), the wallet gets
   * back the rest of the hold or pays what the hold did not cover. */
  FtPosting ps[3] = {
    { (gint32) rider_account (p, rider, TRUE, TRUE), h->amount },
    { (gint32) revenue_acc (p), -price },
    { (gint32) rider_account (p, rider, FALSE, TRUE), price - h->amount },
  };
  tx = post (p, FT_TX_CAPTURE, now, rider, price, booking, idem, scope, args, ps, 3, error);
  if (tx < 0)
    return -1;
  recmap_remove (&p->holds, (guint64) booking);
  add_captured (p, rider, booking, price);
  return tx;
}

gint64
ft_payments_release (FtPayments *p, guint rider, gint64 booking, const char *idem_key,
                     FtTime now, GError **error)
{
  g_return_val_if_fail (p != NULL, -1);
  g_return_val_if_fail (rider <= G_MAXINT32, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  guint64 idem = key_hash (idem_key);
  gint64 scope = key_scope (idem_key);
  guint64 args = args_hash (OP_RELEASE, rider, 0, booking);
  gint64 tx;
  if (idem_seen (p, idem, scope, args, idem_key, &tx, error))
    return tx;
  HoldRec *h = find_hold (p, rider, booking, "release", error);
  if (h == NULL)
    return -1;
  FtPosting ps[2] = {
    { (gint32) rider_account (p, rider, TRUE, TRUE), h->amount },
    { (gint32) rider_account (p, rider, FALSE, TRUE), -h->amount },
  };
  tx = post (p, FT_TX_RELEASE, now, rider, h->amount, booking, idem, scope, args, ps, 2, error);
  if (tx < 0)
    return -1;
  recmap_remove (&p->holds, (guint64) booking);
  return tx;
}

gint64
ft_payments_refund (FtPayments *p, guint rider, gint64 booking, gint64 amount,
                    const char *idem_key, FtTime now, GError **error)
{
  g_return_val_if_fail (p != NULL, -1);
  g_return_val_if_fail (rider <= G_MAXINT32, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  guint64 idem = key_hash (idem_key);
  gint64 scope = key_scope (idem_key);
  guint64 args = args_hash (OP_REFUND, rider, amount, booking);
  gint64 tx;
  if (idem_seen (p, idem, scope, args, idem_key, &tx, error))
    return tx;
  if (!check_amount (p, amount, FALSE, "refund", error))
    return -1;
  const char *cur = ft_ledger_currency (p->ledger);
  CaptureRec *c = capture_get (p, booking);
  if (c == NULL || c->rider != rider)
    {
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_REFUND,
                   "booking %" G_GINT64_FORMAT " has no captured payment from rider %u to refund",
                   booking, rider);
      return -1;
    }
  if (amount > c->captured)
    {
      g_autofree char *want = ft_money_format (amount, cur);
      g_autofree char *left = ft_money_format (c->captured, cur);
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_REFUND,
                   "cannot refund %s for booking %" G_GINT64_FORMAT ": only %s is left to refund",
                   want, booking, left);
      return -1;
    }
  FtPosting ps[2] = {
    { (gint32) refunds_acc (p), amount },
    { (gint32) rider_account (p, rider, FALSE, TRUE), -amount },
  };
  tx = post (p, FT_TX_REFUND, now, rider, amount, booking, idem, scope, args, ps, 2, error);
  if (tx < 0)
    return -1;
  add_captured (p, rider, booking, -amount);
  return tx;
}

gint64
ft_payments_incentive (FtPayments *p, guint rider, gint64 amount, gint64 ref, const char *idem_key,
                       FtTime now, GError **error)
{
  g_return_val_if_fail (p != NULL, -1);
  g_return_val_if_fail (rider <= G_MAXINT32, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  guint64 idem = key_hash (idem_key);
  gint64 scope = key_scope (idem_key);
  guint64 args = args_hash (OP_INCENTIVE, rider, amount, ref);
  gint64 tx;
  if (idem_seen (p, idem, scope, args, idem_key, &tx, error))
    return tx;
  if (!check_amount (p, amount, FALSE, "incentive", error))
    return -1;
  FtPosting ps[2] = {
    { (gint32) incentives_acc (p), amount },
    { (gint32) rider_account (p, rider, FALSE, TRUE), -amount },
  };
  return post (p, FT_TX_INCENTIVE, now, rider, amount, ref, idem, scope, args, ps, 2, error);
}

gint64
ft_payments_incentives_total (FtPayments *p)
{
  g_return_val_if_fail (p != NULL, 0);
  guint idx;
  if (p->incentives == NO_ACC && !ft_ledger_lookup (p->ledger, "expense:incentives", &idx))
    return 0;
  return ft_ledger_balance (p->ledger, incentives_acc (p));
}

/* ---------------------------------------------------------------- */
/* rebuild and check                                                */

void
ft_payments_expect (FtPayments *p, guint n_keys, guint n_bookings)
{
  g_return_if_fail (p != NULL);
  if (no_journal (p))
    return;   /* keys and captures live only while their booking is kept */
  if (p->idem.n == 0)
    idemmap_resize (p, n_keys);
  if (n_bookings > p->captures->len)
    {
      GArray *c = g_array_sized_new (FALSE, TRUE, sizeof (CaptureRec), n_bookings);
      p->huge_captures = ft_mem_advise_huge (c->data);
      g_array_append_vals (c, p->captures->data, p->captures->len);
      g_array_unref (p->captures);
      p->captures = c;
    }
  if (n_bookings > p->bkeys->len)
    {
      GArray *k = g_array_sized_new (FALSE, TRUE, sizeof (BookingKeys), n_bookings);
      p->huge_bkeys = ft_mem_advise_huge (k->data);
      g_array_append_vals (k, p->bkeys->data, p->bkeys->len);
      g_array_unref (p->bkeys);
      p->bkeys = k;
    }
}

void
ft_payments_forget_booking (FtPayments *p, gint64 booking)
{
  g_return_if_fail (p != NULL);
  if (booking >= 0 && booking < G_MAXINT32)
    {
      /* a bit per id (booking's ids run from 0): 128 KiB a million */
      gsize w = (gsize) booking / 64;
      if (w >= p->gone_words)
        {
          gsize n = MAX (MAX (w + 1, p->gone_words * 2), 64);
          p->gone = g_renew (guint64, p->gone, n);
          memset (p->gone + p->gone_words, 0, (n - p->gone_words) * sizeof (guint64));
          p->gone_words = n;
        }
      p->gone[w] |= G_GUINT64_CONSTANT (1) << (booking % 64);
    }
  if (no_journal (p))
    {
      /* its keys and capture, together */
      const BookingFullKeys *bk = bkw_lookup (&p->bk_full, booking);
      if (bk == NULL)
        return;
      if (bk->c.present && bk->c.captured < 0)
        p->n_overrefunded--;
      if (bk->n_over > 0)
        {
          /* its keys beyond the slots, found by a walk of the key map (a
           * booking with more than BK_FULL_SLOTS keys is rare) */
          g_autoptr(GArray) over = g_array_new (FALSE, FALSE, sizeof (guint64));
          g_array_append_val (over, booking);
          recmap_foreach (&p->keys_full, over_of, over);
          for (guint i = 1; i < over->len; i++)
            recmap_remove (&p->keys_full, g_array_index (over, guint64, i));
        }
      bkw_remove (&p->bk_full, booking);
      return;
    }
  if (booking >= 0 && (guint64) booking < p->captures->len)
    {
      CaptureRec *c = &g_array_index (p->captures, CaptureRec, booking);
      if (c->present && c->captured < 0)
        p->n_overrefunded--;
      memset (c, 0, sizeof *c);
    }
  CaptureFar *f = recmap_lookup (&p->captures_far, (guint64) booking);
  if (f != NULL)
    {
      if (f->c.captured < 0)
        p->n_overrefunded--;
      recmap_remove (&p->captures_far, (guint64) booking);
    }
  /* with the journal, keys stay (they are hashes in the booking's slots or
   * the table, and a rebuild would find them again anyway) */
}

void
ft_payments_rebuild (FtPayments *p)
{
  g_return_if_fail (p != NULL);
  g_return_if_fail (ft_ledger_has_journal (p->ledger));

  recmap_clear (&p->holds);
  g_array_set_size (p->captures, 0);
  p->huge_captures = 0;
  recmap_clear (&p->captures_far);
  g_clear_pointer (&p->idem.slots, g_free);
  p->idem.cap = p->idem.n = 0;
  g_array_set_size (p->bkeys, 0);
  p->huge_bkeys = 0;
  p->idem_rebuilt = FALSE;
  p->bk_far_from = G_MAXINT64;
  p->n_overrefunded = 0;
  g_array_set_size (p->riders, 0);
  /* the ledger's rider accounts are no longer cached: look them up */
  p->riders_gen = ft_ledger_n_accounts (p->ledger) == 0 ? ft_ledger_codes_generation (p->ledger) : G_MAXUINT64;
  p->clearing = p->revenue = p->refunds = p->incentives = NO_ACC;

  guint n = ft_ledger_n_tx (p->ledger);
  for (guint i = 0; i < n; i++)
    {
      const FtLedgerTx *tx = ft_ledger_get_tx (p->ledger, i);
      /* only the hash is kept, not the text: the key goes to the table,
       * where a key naming a booking is looked for from now on too */
      idem_remember (p, tx->idem_hash, -1, i);
      p->idem_rebuilt |= tx->idem_hash != 0;
      guint rider = (guint) tx->user_account;
      switch (tx->kind)
        {
        case FT_TX_HOLD:
          {
            HoldRec *h = recmap_insert (&p->holds, (guint64) tx->ref);
            h->rider = rider;
            h->amount = tx->amount;
            h->tx = i;
          }
          break;
        case FT_TX_CAPTURE:
          recmap_remove (&p->holds, (guint64) tx->ref);
          add_captured (p, rider, tx->ref, tx->amount);
          break;
        case FT_TX_RELEASE:
          recmap_remove (&p->holds, (guint64) tx->ref);
          break;
        case FT_TX_REFUND:
          add_captured (p, rider, tx->ref, -tx->amount);
          break;
        case FT_TX_TOPUP:
        case FT_TX_SETTLE_DEBT:
        case FT_TX_ADJUST:
        case FT_TX_INCENTIVE:
        case FT_N_TX_KINDS:
        default:
          break;
        }
    }
}

static void
hold_max_rider (gconstpointer rec, gpointer data)
{
  guint *max_rider = data;
  *max_rider = MAX (*max_rider, ((const HoldRec *) rec)->rider);
}

typedef struct {
  gint64        *held;
  const HoldRec *bad;    /* the first hold of a non-positive amount */
} HeldSum;

static void
hold_sum (gconstpointer rec, gpointer data)
{
  HeldSum *hs = data;
  const HoldRec *h = rec;
  if (h->amount <= 0)
    {
      if (hs->bad == NULL)
        hs->bad = h;
      return;
    }
  hs->held[h->rider] += h->amount;
}

gboolean
ft_payments_check (FtPayments *p, GError **error)
{
  g_return_val_if_fail (p != NULL, FALSE);

  if (!ft_ledger_check (p->ledger, error))
    return FALSE;

  /* Open holds summed per rider, in a dense array (riders are dense). */
  guint n_acc = ft_ledger_n_accounts (p->ledger);
  guint max_rider = 0;
  recmap_foreach (&p->holds, hold_max_rider, &max_rider);
  for (guint i = 0; i < n_acc; i++)
    {
      const FtLedgerAccount *a = ft_ledger_get_account (p->ledger, i);
      if (a->code[0] == 'h' && g_str_has_prefix (a->code, "hold:"))
        {
          if (a->owner < 0 || a->owner >= (1 << 28))
            {
              g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID,
                           "hold account %s has owner %d, not a rider index", a->code, a->owner);
              return FALSE;
            }
          max_rider = MAX (max_rider, (guint) a->owner);
        }
    }
  g_autofree gint64 *held = g_new0 (gint64, (gsize) max_rider + 1);
  g_autofree guint8 *seen = g_new0 (guint8, (gsize) max_rider + 1);

  HeldSum hs = { held, NULL };
  recmap_foreach (&p->holds, hold_sum, &hs);
  if (hs.bad != NULL)
    {
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID,
                   "hold of booking %" G_GINT64_FORMAT " has non-positive amount %"
                   G_GINT64_FORMAT, hs.bad->booking, hs.bad->amount);
      return FALSE;
    }

  for (guint i = 0; i < n_acc; i++)
    {
      const FtLedgerAccount *a = ft_ledger_get_account (p->ledger, i);
      if (a->code[0] != 'h' || !g_str_has_prefix (a->code, "hold:"))
        continue;
      guint r = (guint) a->owner;
      seen[r] = 1;
      gint64 balance = ft_ledger_balance (p->ledger, i);
      if (-balance != held[r])
        {
          g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID,
                       "account %s holds %" G_GINT64_FORMAT " but the open holds of rider %u "
                       "add up to %" G_GINT64_FORMAT, a->code, -balance, r, held[r]);
          return FALSE;
        }
    }
  for (guint r = 0; r <= max_rider; r++)
    if (held[r] != 0 && !seen[r])
      {
        g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_INVALID,
                     "rider %u has open holds of %" G_GINT64_FORMAT " but no hold account",
                     r, held[r]);
        return FALSE;
      }

  if (p->n_overrefunded != 0)
    {
      g_set_error (error, FT_PAYMENTS_ERROR, FT_PAYMENTS_ERROR_REFUND,
                   "%u bookings were refunded more than was captured", p->n_overrefunded);
      return FALSE;
    }
  return TRUE;
}
