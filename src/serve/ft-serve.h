/* ft-serve.h — the feed server: MDS 2.0 provider endpoints (trips,
 * events/historical, telemetry, vehicles, vehicles/status) with hour
 * windows, pagination and per-agency bearer tokens; GBFS 3.0 with
 * auto-discovery; Prometheus /metrics and /health. libsoup 3 on the
 * caller's main context.
 *
 * Its data come from an FtMds over a store file (read-only, refreshed as
 * new commits appear) and, for GBFS, from documents the owner hands in
 * (ft_serve_set_gbfs, from any thread: a simulation builds them from its
 * core) or, when none were handed in, from the store's vehicle states.
 * It knows nothing of the simulation: the CLI drives one and sets its
 * gauges through ft_serve_get_metrics.
 */
#pragma once

#include "ft-mds.h"
#include "ft-metrics.h"
#include "ft-serve-params.h"

G_BEGIN_DECLS

typedef struct {
  const char *host;           /* an IP address or "localhost" */
  guint       port;           /* 0: any free port (ft_serve_get_port tells) */
  GHashTable *tokens;         /* token -> agency (borrowed); NULL: MDS open, loopback only */
  const char *tls_cert;       /* PEM files, both or neither */
  const char *tls_key;
  FtGbfsExportInfo gbfs;      /* system_id, name …; base_url and epoch are filled in */
  const char *source_label;   /* shown in /health */
} FtServeConfig;

typedef struct _FtServe FtServe;

/* Starts listening. Refuses (FT_SERVE_ERROR_LISTEN) a host that is not
 * loopback without both TLS and tokens; FT_SERVE_ERROR_BIND names the
 * address when the port is in use or not permitted. mds is borrowed. */
FtServe   *ft_serve_new          (FtMds *mds, const FtServeConfig *cfg, GError **error);
void       ft_serve_free         (FtServe *s);
guint      ft_serve_get_port     (FtServe *s);
const char *ft_serve_get_base_url (FtServe *s);
FtMetrics *ft_serve_get_metrics  (FtServe *s);
/* Replaces the GBFS documents (name -> JSON text; the table is taken).
 * Thread-safe. */
void       ft_serve_set_gbfs     (FtServe *s, GHashTable *docs);
/* The GBFS base URL the documents should link to (http(s)://host:port/gbfs). */
char      *ft_serve_dup_gbfs_base (FtServe *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtServe, ft_serve_free)

/* Structured logging: GLib's structured log records, one JSON object per
 * line, appended to path (domain, level, message and the record's fields;
 * a field whose name says it holds a secret — AUTHORIZATION, TOKEN,
 * PASSWORD — is dropped). Installs the process's log writer; call once. */
gboolean   ft_serve_log_json_open (const char *path, GError **error);

G_END_DECLS
