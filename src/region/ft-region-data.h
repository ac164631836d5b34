/* ft-region-data.h — data residency and riders' data rights (issue 21).
 * A region's data lives in its own folder:
 *
 *   region.ini     [region] name, jurisdiction (GDPR, UK-GDPR, DPDP, CCPA,
 *                  LGPD); [retention] telemetry_days, coarsen_days, coarsen_m
 *                  (defaults per jurisdiction)
 *   data/NAME.db   the region's stores (nothing of another region's)
 *
 * Retention deletes raw telemetry older than telemetry_days and coarsens
 * trip positions older than coarsen_days to a grid of coarsen_m; a rider's
 * export gathers everything a store holds about them as JSON; erasure
 * removes their personal data and coarsens their trips' positions while
 * the ledger, ids and trip counts stay. Every right exercised and every
 * retention run is a row in the store (rights_audit, retention_log, schema
 * 12). A cross-region report reads only the aggregate tables (an_*) and
 * meta of each store: an SQLite authorizer refuses every other table.
 */
#pragma once

#include "ft-booking.h"

G_BEGIN_DECLS

#define FT_REGION_DATA_ERROR (ft_region_data_error_quark ())
GQuark ft_region_data_error_quark (void);
typedef enum {
  FT_REGION_DATA_ERROR_INPUT,       /* not a region folder, a bad region.ini, a bad argument */
  FT_REGION_DATA_ERROR_NO_SUCH,     /* unknown rider or actor */
  FT_REGION_DATA_ERROR_PERMISSION,  /* the actor may not do this for this rider */
  FT_REGION_DATA_ERROR_RESIDENCY,   /* a store tagged for another region */
  FT_REGION_DATA_ERROR_STORE,       /* SQLite or store failure (nothing changed) */
  FT_REGION_DATA_ERROR_NOT_BUILT,   /* report: a store without aggregates */
} FtRegionDataError;

typedef struct {
  char   *name;
  char   *jurisdiction;
  int     telemetry_days;   /* raw telemetry (telemetry, vehicle_moved events) kept */
  int     coarsen_days;     /* trip positions older than this are coarsened */
  double  coarsen_m;        /* grid of the coarsened positions (50 .. 5000 m) */
} FtRegionPolicy;

/* Reads DIR/region.ini. Refused (INPUT), naming the file and key: a folder
 * without region.ini, an unknown jurisdiction or key, negative or
 * non-numeric days, a grid outside 50 .. 5000 m. */
gboolean ft_region_policy_load  (const char *dir, FtRegionPolicy *out, GError **error);
void     ft_region_policy_clear (FtRegionPolicy *p);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FtRegionPolicy, ft_region_policy_clear)
/* The jurisdictions known, NULL-terminated, and their default policy. */
const char *const *ft_region_jurisdictions (void);
/* Writes DIR/region.ini (DIR and DIR/data created) with the
 * jurisdiction's defaults; refuses an unknown jurisdiction and a DIR whose
 * region.ini names another region. */
gboolean ft_region_policy_init  (const char *dir, const char *name, const char *jurisdiction,
                                 GError **error);
/* The region's store files (DIR/data/NAME.db), sorted; an empty array when none. */
GPtrArray *ft_region_store_paths (const char *dir, GError **error);

/* Coarsening: the centre of the grid cell of side about cell_m metres that
 * holds p (idempotent: a coarsened point stays where it is). */
FtLatLon ft_region_coarsen (FtLatLon p, double cell_m);

typedef struct {
  char   *store;               /* path */
  gint64  telemetry_removed;   /* events deleted */
  gint64  events_coarsened;    /* events whose position was coarsened */
  gint64  bookings_coarsened;  /* bookings whose start or end was coarsened */
} FtRetentionResult;

/* Enforces the region's policy at `now` (the stores' event time, ms) on
 * every store of DIR, each in one transaction, and logs each in its
 * retention_log. A store not yet tagged gets the region's name and
 * jurisdiction in its meta; one tagged for another region is refused
 * before anything is changed. Running twice changes nothing the second
 * time. Returns an array of FtRetentionResult (free with
 * ft_retention_results_free) or NULL with an error. */
GArray  *ft_region_retention        (const char *dir, FtTime now, GError **error);
void     ft_retention_results_free  (GArray *results);

/* ---- riders' rights on one store ------------------------------------------ */

/* Who asks and for whom: an account id (UUID), an e-mail or "#INDEX".
 * A rider may act for themself; for others, export needs a dispatcher
 * (support) or admin, erasure an admin (FT_PERM_ERASE). */
typedef struct {
  const char *store;          /* a store file */
  const char *rider;
  const char *actor;
  FtTime      now;            /* the audit row's time */
  double      coarsen_m;      /* erasure: grid of the rider's trip positions (<= 0: 500) */
  gboolean    core_logs_event;/* erasure: a core writing to this store logs the
                               * account_erased event (ft_rights_erase_in_memory),
                               * so the file's event numbering stays the core's */
} FtRightsRequest;

/* Everything the store holds about the rider, as JSON: account, trips
 * (bookings), ledger transactions with their postings on the rider's
 * accounts, wallet balances, support hand-offs and pending confirmations,
 * end-of-trip photos (inspect_photos of the rider's vehicles during their
 * trips) and their reviews. Writes the audit row. */
char    *ft_rights_export (const FtRightsRequest *req, GError **error);

typedef struct {
  guint   account;            /* the rider's index */
  guint   actor;              /* who asked */
  FtTime  t;
  double  cell_m;             /* the grid their positions went to */
  char    pseudonym[24];
  gint64  bookings_coarsened, events_coarsened, handoffs_cleared, pending_removed,
          photos_cleared;
  guint   trips;              /* the rider's ended trips, unchanged */
} FtErasureResult;

/* Erases the rider's personal data in one transaction: name and e-mail
 * (replaced by a pseudonym as ft_accounts_erase does), positions of their
 * bookings and of their trips' events coarsened, hand-off messages and
 * pending confirmations removed, photo paths cleared; the ledger, the
 * account's id and index and the trip counts stay. Logs an
 * account_erased event and the audit row, then checkpoints the WAL so no
 * old page holds the data (SQLite's secure_delete; VACUUM when free
 * pages may hold old copies). */
gboolean ft_rights_erase  (const FtRightsRequest *req, FtErasureResult *out, GError **error);

/* A store with a live core attached (the app's run): after ft_rights_erase
 * (with core_logs_event) on its file, the same in the core's memory (the
 * account's name and e-mail, its bookings' positions), so the core's next
 * write does not bring the data back, and the account_erased event
 * appended to the core's log. */
void     ft_rights_erase_in_memory (FtAccounts *accounts, FtBooking *booking, FtEventLog *log,
                                    const FtErasureResult *res);

/* ---- cross-region report --------------------------------------------------- */

/* One line per region and store from aggregates only: requests, served,
 * trips, revenue from an_zone_hour, riders from an_rider, vehicles from
 * an_vehicle_day; as text (a table) or JSON. A store without aggregates
 * is refused (NOT_BUILT) naming it and `analytics build`. */
char    *ft_region_report_aggregates (const char *const *dirs, gboolean json, GError **error);

G_END_DECLS
