/* ft-payments.h — rider money on top of the ledger: wallet top-ups charged
 * through a payment provider, a pre-authorisation hold at unlock, capture at
 * trip end (releasing the rest), refunds, and outstanding debt. Every
 * operation takes an idempotency key: a retried call with the same key and
 * the same arguments returns the original result and applies nothing again;
 * the same key with different arguments is refused.
 *
 * Ledger accounts per rider: "wallet:<i>" (liability: what we owe the rider)
 * and "hold:<i>" (liability: funds held for an open trip). Shared:
 * "clearing:card" (asset), "revenue:rides" (revenue), "expense:refunds",
 * "expense:incentives" (relocation rewards credited to wallets).
 * A wallet below zero is debt: the rider cannot book until it is settled.
 */
#pragma once

#include "ft-ledger.h"

G_BEGIN_DECLS

#define FT_PAYMENTS_ERROR (ft_payments_error_quark ())
GQuark ft_payments_error_quark (void);
typedef enum {
  FT_PAYMENTS_ERROR_DECLINED,        /* provider declined the card */
  FT_PAYMENTS_ERROR_INSUFFICIENT,    /* wallet too low and no auto top-up */
  FT_PAYMENTS_ERROR_IDEMPOTENCY,     /* key reused with other arguments */
  FT_PAYMENTS_ERROR_NO_HOLD,         /* capture/release without an open hold */
  FT_PAYMENTS_ERROR_REFUND,          /* refund exceeds what was captured */
  FT_PAYMENTS_ERROR_INVALID,         /* non-positive amount, wrong currency */
  FT_PAYMENTS_ERROR_UNPAID,          /* rider owes money */
  FT_PAYMENTS_ERROR_PROVIDER,        /* provider error or none configured (retryable) */
} FtPaymentsError;

/* A payment-provider (card acquirer) interface. */
typedef enum { FT_PAY_APPROVED = 0, FT_PAY_DECLINED, FT_PAY_ERROR } FtPayResult;

typedef struct {
  /* Charge `amount` to the rider's card. *latency_ms gets the simulated or
   * measured latency. idem_key lets the provider deduplicate too. */
  FtPayResult (*charge) (gpointer self, guint rider, gint64 amount, const char *currency,
                         const char *idem_key, FtTime now, guint *latency_ms);
  void        (*free)   (gpointer self);
} FtPayProviderVTable;

typedef struct {
  const FtPayProviderVTable *vtable;
  gpointer                   self;
} FtPayProvider;

/* Simulated card provider: declines with probability decline_rate, latency
 * drawn uniformly in [min, max] ms, from its own seeded generator. */
FtPayProvider ft_sim_card_provider_new (guint64 seed, double decline_rate,
                                        guint latency_min_ms, guint latency_max_ms);

typedef struct _FtPayments FtPayments;

/* Takes ownership of provider. */
FtPayments *ft_payments_new            (FtLedger *ledger, FtPayProvider provider);
void        ft_payments_free           (FtPayments *p);
FtLedger   *ft_payments_get_ledger     (FtPayments *p);
/* Auto top-up: when a hold needs more than the wallet has, charge the card
 * for max(shortfall, amount). 0 disables. */
void        ft_payments_set_auto_topup (FtPayments *p, gint64 amount_minor);

/* All return the ledger tx id (>= 0) or -1 with an error. A NULL or empty
 * idem_key disables idempotency for that call. Declines are not remembered:
 * a retry with the same key asks the provider again. A hold that needs an
 * auto top-up posts a FT_TX_TOPUP (ref = booking) before the FT_TX_HOLD and
 * returns the hold's id. A hold is refused (UNPAID) while the rider owes. */
gint64  ft_payments_topup       (FtPayments *p, guint rider, gint64 amount, const char *idem_key,
                                 FtTime now, GError **error);
gint64  ft_payments_hold        (FtPayments *p, guint rider, gint64 amount, gint64 booking,
                                 const char *idem_key, FtTime now, GError **error);
/* Capture `price` for the booking's hold: hold -> revenue; any remainder of
 * the hold goes back to the wallet; if price exceeds the hold the rest comes
 * from the wallet (possibly leaving debt). */
gint64  ft_payments_capture     (FtPayments *p, guint rider, gint64 booking, gint64 price,
                                 const char *idem_key, FtTime now, GError **error);
/* Release a hold entirely (cancelled trip). */
gint64  ft_payments_release     (FtPayments *p, guint rider, gint64 booking,
                                 const char *idem_key, FtTime now, GError **error);
/* Charge the card for the whole debt (wallet below zero) and credit the
 * wallet (FT_TX_SETTLE_DEBT). INVALID if the rider owes nothing. */
gint64  ft_payments_settle_debt (FtPayments *p, guint rider, const char *idem_key,
                                 FtTime now, GError **error);
/* Refund up to the captured amount of a booking, back to the wallet. */
gint64  ft_payments_refund      (FtPayments *p, guint rider, gint64 booking, gint64 amount,
                                 const char *idem_key, FtTime now, GError **error);

/* A relocation reward: expense:incentives -> the rider's wallet (it pays
 * for later trips). `ref` is the booking it rewards. */
gint64  ft_payments_incentive   (FtPayments *p, guint rider, gint64 amount, gint64 ref,
                                 const char *idem_key, FtTime now, GError **error);
/* Total credited as incentives (the expense account's balance). */
gint64  ft_payments_incentives_total (FtPayments *p);
gint64  ft_payments_wallet      (FtPayments *p, guint rider);   /* what we owe the rider; <0 = debt */
/* Starts loading the rider's wallet and hold accounts (a hint). */
void    ft_payments_prefetch_rider (FtPayments *p, guint rider);
/* Starts loading what a hold or capture of the booking reads first: its
 * open hold's slot and (without the journal) the record of its keys and
 * capture (a hint). */
void    ft_payments_prefetch_booking (FtPayments *p, gint64 booking);
gint64  ft_payments_held        (FtPayments *p, guint rider);
gint64  ft_payments_captured    (FtPayments *p, gint64 booking);/* net of refunds */
gboolean ft_payments_has_debt   (FtPayments *p, guint rider);
gboolean ft_payments_has_hold   (FtPayments *p, gint64 booking);
guint64 ft_payments_n_declines  (FtPayments *p);
/* Provider latency of the last card charge, and the sum over all charges. */
guint   ft_payments_last_latency_ms  (FtPayments *p);
guint64 ft_payments_total_latency_ms (FtPayments *p);
/* Ledger check plus: holds tracked = hold account balances. */
gboolean ft_payments_check      (FtPayments *p, GError **error);
/* Room made now (a run that knows its size) for n_keys idempotency keys
 * that name no booking, and for bookings 0..n_bookings-1: their captures
 * and the keys that name them ("bk<id>-…", as booking writes its own: a
 * key that names a booking is kept with it, so these need no room in the
 * key table). Changes no contents. */
void    ft_payments_expect      (FtPayments *p, guint n_keys, guint n_bookings);
/* Rebuild hold / capture / idempotency indexes from the ledger's
 * transactions after a store reload (each tx carries its key's hash); the
 * ledger must keep its journal. Without one (summary records) payments
 * keeps each key whole itself (its hash, its arguments' hash, its
 * transaction and kind), a key naming a booking with that booking, and
 * works as with one. */
void    ft_payments_rebuild     (FtPayments *p);
/* Booking (closed, its hold captured or never placed) is no longer kept
 * by its caller (ft_booking_set_release): its captured amount goes, and
 * without the ledger's journal so do its keys, so that what payments keeps
 * is bounded by the bookings open at once (and a bit per booking id
 * forgotten). Afterwards a retry of one of its keys is not recognised: a
 * retried hold or a new one is refused (the booking is closed), a retried
 * capture too (no open hold), its captured amount reads 0 and it cannot
 * be refunded; an incentive naming it is taken as a new one (a retried
 * incentive would post again; ft_core_reward_trip pays only for a booking
 * that booking still keeps, and once). */
void    ft_payments_forget_booking (FtPayments *p, gint64 booking);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtPayments, ft_payments_free)

G_END_DECLS
