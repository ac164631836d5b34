/* ft-serve.c — the feed server over libsoup 3: routing, authorisation,
 * MDS paging, GBFS, /metrics and /health, request logging. See ft-serve.h.
 */
#include "ft-config.h"
#include "ft-serve.h"
#include "ft-serve-head.h"

#include <libsoup/soup.h>
#include <string.h>

struct _FtServe {
  SoupServer *server;
  FtServeAcceptor *acceptor;   /* our listening socket: malformed heads answered there */
  FtMds      *mds;
  FtMetrics  *metrics;
  GHashTable *tokens;          /* borrowed */
  char       *base_url;        /* http(s)://host:port */
  char       *source_label;
  FtServeConfig cfg;
  char       *system_id, *name, *timezone;
  guint8      id_key[32];      /* GBFS vehicle_id key, random per server */
  GMutex      gbfs_lock;
  GHashTable *gbfs_given;      /* from the owner, NULL none */
  GHashTable *gbfs_built;      /* from the store, rebuilt on new commits */
  gboolean    gbfs_stale;
  gint64      last_refresh_us;
  gint64      last_scrape_us;
  guint64     last_scrape_events;
};

/* ---- responses ----------------------------------------------------------- */

static void
respond (SoupServerMessage *msg, guint status, const char *type, char *body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_TAKE, body, strlen (body));
}

static void
respond_error (SoupServerMessage *msg, guint status, const char *error, const char *description,
               const char *detail)
{
  respond (msg, status, "application/json", ft_mds_error_json (error, description, detail));
}

/* ---- authorisation ------------------------------------------------------- */

static gboolean
equal_ct (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  guint8 d = la != lb;
  for (gsize i = 0; i < la; i++)
    d |= (guint8) (a[i] ^ b[i % (lb ? lb : 1)]);
  return d == 0;
}

/* The agency of the request's bearer token, or NULL. Every token is
 * compared in full, so the time taken says nothing about near misses. */
static const char *
agency_of (FtServe *s, SoupServerMessage *msg)
{
  const char *h = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                "Authorization");
  const char *found = NULL;
  if (h == NULL || g_ascii_strncasecmp (h, "Bearer ", 7) != 0)
    return NULL;
  const char *token = h + 7;
  while (*token == ' ')
    token++;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, s->tokens);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (equal_ct (token, k))
      found = v;
  return found;
}

/* ---- GBFS ---------------------------------------------------------------- */

char *
ft_serve_dup_gbfs_base (FtServe *s)
{
  return g_strdup_printf ("%s/gbfs", s->base_url);
}

void
ft_serve_set_gbfs (FtServe *s, GHashTable *docs)
{
  g_mutex_lock (&s->gbfs_lock);
  g_clear_pointer (&s->gbfs_given, g_hash_table_unref);
  s->gbfs_given = docs;
  g_mutex_unlock (&s->gbfs_lock);
}

static char *
gbfs_doc (FtServe *s, const char *name)
{
  char *text = NULL;
  g_mutex_lock (&s->gbfs_lock);
  if (s->gbfs_given)
    text = g_strdup (g_hash_table_lookup (s->gbfs_given, name));
  else if (s->mds)
    {
      if (s->gbfs_built == NULL || s->gbfs_stale)
        {
          guint n = 0;
          g_autoptr(GError) e = NULL;
          g_autofree FtGbfsVehicleView *views = ft_mds_gbfs_views (s->mds, &n, &e);
          FtMdsStats st;
          ft_mds_stats (s->mds, &st);
          g_autofree char *base = ft_serve_dup_gbfs_base (s);
          FtGbfsExportInfo info = s->cfg.gbfs;
          info.base_url = base;
          info.epoch_s = st.newest_ms > 0 ? st.newest_ms / 1000 : g_get_real_time () / G_USEC_PER_SEC;
          info.id_key = s->id_key;
          info.id_key_len = sizeof s->id_key;
          info.ttl_s = 10;
          GHashTable *docs = views ? ft_gbfs_build (&info, views, n, NULL, NULL, &e) : NULL;
          if (docs)
            {
              g_clear_pointer (&s->gbfs_built, g_hash_table_unref);
              s->gbfs_built = docs;
              s->gbfs_stale = FALSE;
            }
          else
            g_log_structured ("ft-serve", G_LOG_LEVEL_WARNING, "MESSAGE",
                              "building GBFS from the store failed: %s", e ? e->message : "?");
        }
      if (s->gbfs_built)
        text = g_strdup (g_hash_table_lookup (s->gbfs_built, name));
    }
  g_mutex_unlock (&s->gbfs_lock);
  return text;
}

/* ---- source refresh and metrics -------------------------------------------- */

static void
refresh (FtServe *s)
{
  gint64 now = g_get_monotonic_time ();
  if (s->mds == NULL || now - s->last_refresh_us < 100000)
    return;
  s->last_refresh_us = now;
  gboolean changed = FALSE;
  g_autoptr(GError) e = NULL;
  gint64 t0 = g_get_monotonic_time ();
  if (!ft_mds_refresh (s->mds, &changed, &e))
    {
      g_log_structured ("ft-serve", G_LOG_LEVEL_WARNING, "MESSAGE", "reading the store failed: %s",
                        e->message);
      return;
    }
  if (changed)
    {
      ft_metrics_observe (s->metrics, "fleet_twin_source_refresh_seconds",
                          "Time to read newly committed events from the store", NULL,
                          (double) (g_get_monotonic_time () - t0) / 1e6);
      g_mutex_lock (&s->gbfs_lock);
      s->gbfs_stale = TRUE;
      g_mutex_unlock (&s->gbfs_lock);
    }
}

static void
update_source_gauges (FtServe *s)
{
  FtMetrics *m = s->metrics;
  if (s->mds == NULL)
    return;
  FtMdsStats st;
  ft_mds_stats (s->mds, &st);
  gint64 now_us = g_get_monotonic_time ();
  ft_metrics_gauge_set (m, "fleet_twin_events", "Domain events committed to the store", NULL,
                        (double) st.n_events);
  ft_metrics_gauge_set (m, "fleet_twin_trips", "Trips ended (business KPI)", NULL, (double) st.n_trips);
  ft_metrics_gauge_set (m, "fleet_twin_revenue_minor", "Revenue of ended trips in minor currency units",
                        NULL, (double) st.revenue_minor);
  ft_metrics_gauge_set (m, "fleet_twin_telemetry_points", "Telemetry points (positions) in the store",
                        NULL, (double) st.n_telemetry);
  ft_metrics_gauge_set (m, "fleet_twin_store_commits_seen", "Store refreshes that found new commits",
                        NULL, (double) st.n_refreshes);
  ft_metrics_gauge_set (m, "fleet_twin_newest_event_timestamp_seconds",
                        "Event time of the newest committed event (epoch seconds)", NULL,
                        (double) st.newest_ms / 1000.0);
  if (st.newest_ms > 0)
    ft_metrics_gauge_set (m, "fleet_twin_ingest_lag_seconds",
                          "Wall clock minus the newest committed event's time (live: ingest lag)", NULL,
                          (double) (g_get_real_time () / 1000 - st.newest_ms) / 1000.0);
  if (s->last_scrape_us > 0 && now_us > s->last_scrape_us)
    ft_metrics_gauge_set (m, "fleet_twin_event_rate", "Events committed per second since the last scrape",
                          NULL, (double) (st.n_events - s->last_scrape_events) * 1e6
                                  / (double) (now_us - s->last_scrape_us));
  s->last_scrape_us = now_us;
  s->last_scrape_events = st.n_events;
  guint counts[FT_N_STATES];
  if (ft_mds_count_states (s->mds, counts, NULL))
    for (int i = 0; i < FT_N_STATES; i++)
      {
        g_autofree char *l = g_strdup_printf ("state=\"%s\"", ft_vehicle_state_name ((FtVehicleState) i));
        ft_metrics_gauge_set (m, "fleet_twin_vehicles", "Vehicles by MDS state (available: business KPI)",
                              l, counts[i]);
      }
}

/* ---- MDS ------------------------------------------------------------------ */

typedef enum {
  SHAPE_HOUR,       /* one UTC hour: ?end_time=YYYY-MM-DDTHH … */
  SHAPE_LIST,       /* every vehicle, paged */
  SHAPE_ONE,        /* one vehicle: PATH/{device_id} */
  SHAPE_RANGE,      /* ?start_time=MS&end_time=MS (/events/recent) */
} Shape;

typedef struct {
  const char *path;
  FtMdsKind   kind;
  Shape       shape;
  const char *hour_key;   /* the query's time parameter(s), NULL: none */
} Route;

static const Route mds_routes[] = {
  { "/trips", FT_MDS_TRIPS, SHAPE_HOUR, "end_time" },
  { "/events/historical", FT_MDS_EVENTS, SHAPE_HOUR, "event_time" },
  { "/events/recent", FT_MDS_EVENTS, SHAPE_RANGE, FT_SERVE_RANGE },
  { "/telemetry", FT_MDS_TELEMETRY, SHAPE_HOUR, "telemetry_time" },
  { "/vehicles", FT_MDS_VEHICLES, SHAPE_LIST, NULL },
  { "/vehicles/status", FT_MDS_VEHICLES_STATUS, SHAPE_LIST, NULL },
};

static const Route mds_one_routes[] = {
  /* longest prefix first: "/vehicles/status/ID" before "/vehicles/ID" */
  { "/vehicles/status/", FT_MDS_VEHICLES_STATUS, SHAPE_ONE, NULL },
  { "/vehicles/", FT_MDS_VEHICLES, SHAPE_ONE, NULL },
};

/* Accept: application/vnd.mds+json;version=X — only 2.0 is served. */
static gboolean
version_ok (const char *v)
{
  return v == NULL || strcmp (v, "2.0") == 0 || strcmp (v, "2.0.0") == 0;
}

static char *
accept_version (SoupServerMessage *msg)
{
  const char *a = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Accept");
  if (a == NULL)
    return NULL;
  const char *v = strstr (a, "version=");
  if (v == NULL)
    return NULL;
  v += 8;
  gsize n = strcspn (v, ",; ");
  return g_strndup (v, MIN (n, 16));
}

static void
serve_mds (FtServe *s, SoupServerMessage *msg, const Route *r, const char *device_id, const char *query,
           const char **agency)
{
  if (s->tokens)
    {
      *agency = agency_of (s, msg);
      if (*agency == NULL)
        {
          soup_message_headers_replace (soup_server_message_get_response_headers (msg), "WWW-Authenticate",
                                        "Bearer realm=\"mds\"");
          respond_error (msg, 401, "unauthorized", "a valid bearer token is required",
                         "send Authorization: Bearer TOKEN with your agency's token");
          return;
        }
    }
  g_autofree char *av = accept_version (msg);
  g_auto(FtServeParams) p = { 0 };
  g_autoptr(GError) e = NULL;
  if (!ft_serve_parse_query (query, r->hour_key, &p, &e))
    {
      respond_error (msg, 400, "bad_param", "a query parameter is not valid", e->message);
      return;
    }
  if (!version_ok (av) || !version_ok (p.version))
    {
      g_autofree char *d = g_strdup_printf ("MDS version %s is not served; this provider serves 2.0",
                                            av && !version_ok (av) ? av : p.version);
      respond_error (msg, 406, "unsupported_version", "unsupported MDS version", d);
      return;
    }
  gint64 hour = 0;
  if (r->shape == SHAPE_ONE)
    {
      refresh (s);
      g_autofree char *item = ft_mds_vehicle (s->mds, r->kind, device_id, &e);
      if (item == NULL)
        {
          respond_error (msg, 404, "not_found", "vehicle not found", e->message);
          return;
        }
      respond (msg, 200, FT_MDS_CONTENT_TYPE, ft_mds_envelope (s->mds, r->kind, item, NULL));
      return;
    }
  if (r->shape == SHAPE_RANGE)
    {
      if (p.start_ms < 0 || p.end_ms < 0)
        {
          respond_error (msg, 400, "missing_param", "a required query parameter is missing",
                         "start_time and end_time (epoch milliseconds) are both required");
          return;
        }
      refresh (s);
      gint64 next = -1;
      g_autofree char *items = ft_mds_recent_events (s->mds, p.start_ms, p.end_ms, p.cursor, p.limit, &next, &e);
      if (items == NULL)
        {
          respond_error (msg, 400, "bad_param", "the time range is not valid", e->message);
          return;
        }
      g_autofree char *next_url = next < 0 ? NULL
        : g_strdup_printf ("%s%s?start_time=%" G_GINT64_FORMAT "&end_time=%" G_GINT64_FORMAT "&cursor=%"
                           G_GINT64_FORMAT "&limit=%u", s->base_url, r->path, p.start_ms, p.end_ms, next, p.limit);
      respond (msg, 200, FT_MDS_CONTENT_TYPE, ft_mds_envelope (s->mds, r->kind, items, next_url));
      return;
    }
  if (r->hour_key)
    {
      if (p.hour == NULL)
        {
          g_autofree char *d = g_strdup_printf ("%s=YYYY-MM-DDTHH (a UTC hour) is required", r->hour_key);
          respond_error (msg, 400, "missing_param", "a required query parameter is missing", d);
          return;
        }
      if (!ft_mds_parse_hour (p.hour, &hour))
        {
          g_autofree char *d = g_strdup_printf ("%s must be a UTC hour YYYY-MM-DDTHH, e.g. 2024-01-01T08",
                                                r->hour_key);
          respond_error (msg, 400, "bad_param", "a query parameter is not valid", d);
          return;
        }
    }
  refresh (s);
  gint64 next = -1;
  g_autofree char *items = ft_mds_page (s->mds, r->kind, hour, p.cursor, p.limit, &next, &e);
  if (items == NULL)
    {
      gboolean range = g_error_matches (e, FT_MDS_ERROR, FT_MDS_ERROR_RANGE);
      respond_error (msg, range ? 400 : 500, range ? "bad_param" : "internal_error",
                     range ? "the time window is out of range" : "the store could not be read", e->message);
      return;
    }
  g_autofree char *next_url = NULL;
  if (next >= 0)
    {
      g_autofree char *hour_text = r->hour_key ? ft_mds_format_hour (hour) : NULL;
      next_url = r->hour_key
        ? g_strdup_printf ("%s%s?%s=%s&cursor=%" G_GINT64_FORMAT "&limit=%u", s->base_url, r->path,
                           r->hour_key, hour_text, next, p.limit)
        : g_strdup_printf ("%s%s?cursor=%" G_GINT64_FORMAT "&limit=%u", s->base_url, r->path, next, p.limit);
    }
  respond (msg, 200, FT_MDS_CONTENT_TYPE, ft_mds_envelope (s->mds, r->kind, items, next_url));
}

/* ---- routing ---------------------------------------------------------------- */

static void
handle (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query_table,
        gpointer user_data)
{
  FtServe *s = user_data;
  gint64 t0 = g_get_monotonic_time ();
  const char *method = soup_server_message_get_method (msg);
  GUri *uri = soup_server_message_get_uri (msg);
  const char *query = uri ? g_uri_get_query (uri) : NULL;
  const char *endpoint = "other";
  const char *agency = NULL;

  (void) server;
  (void) query_table;
  if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET, HEAD");
      respond_error (msg, 405, "method_not_allowed", "only GET and HEAD are served", method);
      goto done;
    }
  for (guint i = 0; i < G_N_ELEMENTS (mds_routes); i++)
    if (strcmp (path, mds_routes[i].path) == 0)
      {
        endpoint = mds_routes[i].path;
        serve_mds (s, msg, &mds_routes[i], NULL, query, &agency);
        goto done;
      }
  for (guint i = 0; i < G_N_ELEMENTS (mds_one_routes); i++)
    if (g_str_has_prefix (path, mds_one_routes[i].path) && path[strlen (mds_one_routes[i].path)] != '\0'
        && strchr (path + strlen (mds_one_routes[i].path), '/') == NULL)
      {
        endpoint = mds_one_routes[i].kind == FT_MDS_VEHICLES ? "/vehicles/{device_id}"
                                                              : "/vehicles/status/{device_id}";
        serve_mds (s, msg, &mds_one_routes[i], path + strlen (mds_one_routes[i].path), query, &agency);
        goto done;
      }
  if (strcmp (path, "/health") == 0)
    {
      endpoint = "/health";
      refresh (s);
      FtMdsStats st = { 0 };
      if (s->mds)
        ft_mds_stats (s->mds, &st);
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "status");
      json_builder_add_string_value (b, "ok");
      json_builder_set_member_name (b, "source");
      json_builder_add_string_value (b, s->source_label ? s->source_label : "");
      json_builder_set_member_name (b, "events");
      json_builder_add_int_value (b, (gint64) st.n_events);
      json_builder_set_member_name (b, "newest_event_ms");
      json_builder_add_int_value (b, st.newest_ms);
      json_builder_set_member_name (b, "version");
      json_builder_add_string_value (b, FT_VERSION);
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      respond (msg, 200, "application/json", json_to_string (root, FALSE));
      goto done;
    }
  if (strcmp (path, "/metrics") == 0)
    {
      endpoint = "/metrics";
      refresh (s);
      update_source_gauges (s);
      respond (msg, 200, FT_METRICS_CONTENT_TYPE, ft_metrics_render (s->metrics));
      goto done;
    }
  if (g_str_has_prefix (path, "/gbfs/") && g_str_has_suffix (path, ".json"))
    {
      endpoint = "/gbfs";
      g_autofree char *name = g_strndup (path + 6, strlen (path) - 6 - 5);
      refresh (s);
      char *text = strchr (name, '/') ? NULL : gbfs_doc (s, name);
      if (text)
        respond (msg, 200, "application/json", text);
      else
        respond_error (msg, 404, "not_found", "no such GBFS feed", "see /gbfs/gbfs.json for the feeds served");
      goto done;
    }
  if (strcmp (path, "/gbfs.json") == 0 || strcmp (path, "/manifest.json") == 0)
    {
      endpoint = "/gbfs";
      refresh (s);
      char *text = gbfs_doc (s, path[1] == 'g' ? "gbfs" : "manifest");
      if (text)
        respond (msg, 200, "application/json", text);
      else
        respond_error (msg, 404, "not_found", "no GBFS feed yet", path);
      goto done;
    }
  {
    g_autofree char *d = g_strdup_printf ("no endpoint %s; served: /trips, /events/historical, "
                                          "/events/recent, /telemetry, /vehicles, /vehicles/{device_id}, "
                                          "/vehicles/status, /vehicles/status/{device_id}, /gbfs/gbfs.json, /manifest.json, "
                                          "/metrics, /health", strlen (path) > 200 ? "(long path)" : path);
    respond_error (msg, 404, "not_found", "unknown path", d);
  }
done:
  {
    guint status = soup_server_message_get_status (msg);
    double secs = (double) (g_get_monotonic_time () - t0) / 1e6;
    g_autofree char *ep = ft_metrics_escape (endpoint);
    g_autofree char *l1 = g_strdup_printf ("endpoint=\"%s\",code=\"%u\"", ep, status);
    g_autofree char *l2 = g_strdup_printf ("endpoint=\"%s\"", ep);
    ft_metrics_counter_add (s->metrics, "fleet_twin_http_requests_total", "HTTP requests by endpoint and status",
                            l1, 1);
    ft_metrics_observe (s->metrics, "fleet_twin_http_request_duration_seconds",
                        "Time to build a response, by endpoint", l2, secs);
    g_autofree char *st = g_strdup_printf ("%u", status);
    g_autofree char *ms = g_strdup_printf ("%.3f", secs * 1000);
    /* (MESSAGE comes last: its format takes the remaining arguments.) */
    g_log_structured ("ft-serve", status >= 500 ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_INFO,
                      "HTTP_METHOD", method, "HTTP_ENDPOINT", endpoint, "HTTP_STATUS", st,
                      "DURATION_MS", ms, "AGENCY", agency ? agency : "",
                      "MESSAGE", "%s %s %u", method, endpoint, status);
  }
}

/* libsoup refuses some requests itself before any handler runs (a path
 * that climbs with "..", a scheme that does not match the listener) and
 * answers them with an empty body; give those the same JSON error body as
 * every other refusal. Connected after libsoup's own got-headers handler. */
static void
on_got_headers (SoupServerMessage *msg, gpointer user_data)
{
  guint status = soup_server_message_get_status (msg);
  (void) user_data;
  /* One request per connection. libsoup 3.2 never lets go of a kept-alive
   * connection that the client closes between requests (the socket stays
   * in CLOSE-WAIT, a file descriptor per client, until the server stops),
   * and only the first head of a connection goes through the acceptor's
   * check (ft-serve-accept.c); closing after each response avoids both. */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
  if (status >= 400)
    {
      g_autofree char *d = g_strdup_printf ("the request was refused before routing (HTTP %u)", status);
      g_autofree char *body = ft_mds_error_json ("bad_request", "malformed request", d);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body, strlen (body));
    }
}

static void
on_request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  (void) server;
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), user_data);
}

/* ---- life ------------------------------------------------------------------- */

FtServe *
ft_serve_new (FtMds *mds, const FtServeConfig *cfg, GError **error)
{
  g_return_val_if_fail (cfg != NULL && cfg->host != NULL, NULL);
  gboolean loopback = ft_serve_host_is_loopback (cfg->host);
  gboolean tls = cfg->tls_cert || cfg->tls_key;

  if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
    {
      g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_TLS, "give both --tls-cert and --tls-key, or neither");
      return NULL;
    }
  if (!loopback && (!tls || cfg->tokens == NULL))
    {
      g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_LISTEN,
                   "refusing to serve on %s, which is not a loopback address, without %s%s%s: "
                   "feeds and tokens would cross the network in clear or be open to anyone. "
                   "Give --tls-cert, --tls-key and --tokens, or listen on 127.0.0.1",
                   cfg->host, tls ? "" : "TLS (--tls-cert/--tls-key)",
                   !tls && cfg->tokens == NULL ? " and " : "",
                   cfg->tokens ? "" : "bearer tokens (--tokens)");
      return NULL;
    }
  g_autoptr(GTlsCertificate) cert = NULL;
  if (tls)
    {
      g_autoptr(GError) e = NULL;
      cert = g_tls_certificate_new_from_files (cfg->tls_cert, cfg->tls_key, &e);
      if (cert == NULL)
        {
          g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_TLS, "TLS certificate %s / key %s: %s",
                       cfg->tls_cert, cfg->tls_key, e->message);
          return NULL;
        }
    }
  FtServe *s = g_new0 (FtServe, 1);
  s->mds = mds;
  s->cfg = *cfg;
  s->tokens = cfg->tokens;
  s->metrics = ft_metrics_new ();
  s->source_label = g_strdup (cfg->source_label);
  g_mutex_init (&s->gbfs_lock);
  for (guint i = 0; i < sizeof s->id_key; i += 4)
    {
      guint32 r = g_random_int ();
      memcpy (s->id_key + i, &r, 4);
    }
  /* libsoup does not listen itself: the acceptor reads and checks each
   * request head (TLS included) and hands good connections over */
  s->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (s->server, NULL, handle, s, NULL);
  g_signal_connect (s->server, "request-started", G_CALLBACK (on_request_started), s);

  g_autoptr(GInetAddress) addr = strcmp (cfg->host, "localhost") == 0
    ? g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4) : g_inet_address_new_from_string (cfg->host);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (addr, (guint16) cfg->port);
  g_autoptr(GError) e = NULL;
  if ((s->acceptor = ft_serve_acceptor_new (s->server, sa, cert, s->metrics, &e)) == NULL)
    {
      if (g_error_matches (e, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_BIND,
                     "port %u on %s is already in use (another fleet-twin-cli serve?); "
                     "stop it or choose another port with --listen", cfg->port, cfg->host);
      else
        g_set_error (error, FT_SERVE_ERROR, FT_SERVE_ERROR_BIND, "cannot listen on %s:%u: %s",
                     cfg->host, cfg->port, e->message);
      ft_serve_free (s);
      return NULL;
    }
  guint port = ft_serve_acceptor_port (s->acceptor);
  s->cfg.port = port;
  gboolean v6 = strchr (cfg->host, ':') != NULL;
  s->base_url = g_strdup_printf ("%s://%s%s%s:%u", tls ? "https" : "http", v6 ? "[" : "", cfg->host,
                                 v6 ? "]" : "", port);
  return s;
}

void
ft_serve_free (FtServe *s)
{
  if (s == NULL)
    return;
  ft_serve_acceptor_free (s->acceptor);
  if (s->server)
    {
      soup_server_disconnect (s->server);
      g_object_unref (s->server);
    }
  ft_metrics_free (s->metrics);
  g_clear_pointer (&s->gbfs_given, g_hash_table_unref);
  g_clear_pointer (&s->gbfs_built, g_hash_table_unref);
  g_mutex_clear (&s->gbfs_lock);
  g_free (s->base_url);
  g_free (s->source_label);
  g_free (s);
}

guint
ft_serve_get_port (FtServe *s)
{
  return s->cfg.port;
}

const char *
ft_serve_get_base_url (FtServe *s)
{
  return s->base_url;
}

FtMetrics *
ft_serve_get_metrics (FtServe *s)
{
  return s->metrics;
}
