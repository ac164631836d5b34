/* test-serve-params.c — the feed server's parsers of outside input (query
 * strings, token files, listen addresses), its metrics exposition, and the
 * time origin FtMds gives a store that starts empty.
 */
#include "ft-config.h"
#include "ft-serve.h"
#include "ft-serve-head.h"
#include "ft-test.h"
#include "ft-store.h"

#include <check.h>
#include <string.h>

static gboolean
query_ok (const char *q, const char *hour_key, FtServeParams *p)
{
  g_autoptr(GError) e = NULL;
  gboolean ok = ft_serve_parse_query (q, hour_key, p, &e);
  ck_assert (ok == (e == NULL));
  return ok;
}

START_TEST (test_query_good)
{
  g_auto(FtServeParams) p = { 0 };
  ck_assert (query_ok ("end_time=2024-01-01T08&cursor=14&limit=7", "end_time", &p));
  ck_assert_str_eq (p.hour, "2024-01-01T08");
  ck_assert_int_eq (p.cursor, 14);
  ck_assert_uint_eq (p.limit, 7);
  ft_serve_params_clear (&p);
  ck_assert (query_ok (NULL, "end_time", &p));
  ck_assert (p.hour == NULL && p.cursor == 0 && p.limit == FT_SERVE_DEF_LIMIT);
  ck_assert (query_ok ("end_time=2024-01-01T08&&version=2.0", "end_time", &p));
  ck_assert_str_eq (p.version, "2.0");
  ft_serve_params_clear (&p);
  ck_assert (query_ok ("end%5Ftime=2024%2D01-01T08", "end_time", &p));
  ck_assert_str_eq (p.hour, "2024-01-01T08");
  ft_serve_params_clear (&p);
  ck_assert (query_ok ("start_time=1704096000000&end_time=1704099600000&limit=3", FT_SERVE_RANGE, &p));
  ck_assert (p.start_ms == G_GINT64_CONSTANT (1704096000000) && p.end_ms == G_GINT64_CONSTANT (1704099600000));
  ck_assert (p.hour == NULL && p.limit == 3);
  ft_serve_params_clear (&p);
  ck_assert (query_ok ("limit=3", FT_SERVE_RANGE, &p));
  ck_assert (p.start_ms == -1 && p.end_ms == -1);
}
END_TEST

START_TEST (test_query_bad)
{
  static const struct { const char *q, *hour_key, *says; } bad[] = {
    { "end_time=a&end_time=b", "end_time", "given twice" },
    { "colour=red", "end_time", "unknown query parameter 'colour'" },
    { "event_time=2024-01-01T08", "end_time", "unknown query parameter 'event_time'" },
    { "end_time=2024-01-01T08", NULL, "unknown query parameter 'end_time'" },
    { "cursor=-1", NULL, "cursor '-1'" },
    { "cursor=1e3", NULL, "cursor" },
    { "cursor=99999999999", NULL, "cursor" },
    { "limit=0", NULL, "limit '0'" },
    { "limit=5001", NULL, "limit" },
    { "limit=", NULL, "has no value" },
    { "limit", NULL, "has no value" },
    { "=3", NULL, "no name" },
    { "limit=%", NULL, "escape" },
    { "limit=%4", NULL, "escape" },
    { "limit=%zz", NULL, "escape" },
    { "limit=1%00", NULL, "escape" },
    { "cursor=1&cursor=2", NULL, "given twice" },
    { "start_time=1&start_time=2", FT_SERVE_RANGE, "given twice" },
    { "start_time=yesterday", FT_SERVE_RANGE, "start_time 'yesterday' is not a time" },
    { "end_time=-5", FT_SERVE_RANGE, "end_time '-5'" },
    { "end_time=2024-01-01T08", FT_SERVE_RANGE, "end_time '2024-01-01T08' is not a time" },
    { "end_time=9999999999999999", FT_SERVE_RANGE, "end_time" },
    { "event_time=2024-01-01T08", FT_SERVE_RANGE, "takes start_time, end_time" },
    { "start_time=1704096000000", "end_time", "unknown query parameter 'start_time'" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto(FtServeParams) p = { 0 };
      g_autoptr(GError) e = NULL;
      ck_assert_msg (!ft_serve_parse_query (bad[i].q, bad[i].hour_key, &p, &e), "accepted %s", bad[i].q);
      ck_assert_msg (strstr (e->message, bad[i].says), "%s: %s", bad[i].q, e->message);
      ck_assert (p.hour == NULL && p.version == NULL);
    }
  /* Over the bound, and the bound itself. */
  g_autofree char *big = g_strnfill (FT_SERVE_MAX_QUERY + 1, 'a');
  g_auto(FtServeParams) p = { 0 };
  g_autoptr(GError) e = NULL;
  ck_assert (!ft_serve_parse_query (big, NULL, &p, &e));
  ck_assert (strstr (e->message, "longer than"));
}
END_TEST

START_TEST (test_hours)
{
  gint64 h = 0;
  ck_assert (ft_mds_parse_hour ("2024-01-01T08", &h));
  ck_assert_int_eq (h, G_GINT64_CONSTANT (1704096000000));
  g_autofree char *back = ft_mds_format_hour (h);
  ck_assert_str_eq (back, "2024-01-01T08");
  ck_assert (ft_mds_parse_hour ("2024-02-29T23", &h));
  const char *bad[] = { "2023-02-29T10", "2024-01-01T24", "2024-13-01T00", "2024-00-10T00", "1969-12-31T23",
                        "2024-01-01T8", "2024-01-01 08", "2024-01-01T08:00", "+024-01-01T08", "2024-01-32T00",
                        "", "２０24-01-01T08" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    ck_assert_msg (!ft_mds_parse_hour (bad[i], &h), "accepted %s", bad[i]);
}
END_TEST

START_TEST (test_tokens)
{
  g_autoptr(GError) e = NULL;
  const char *good = "# comment\n\ncityA  0123456789abcdefXYZ\r\n  cityB\t!#$%&()*+,-./0123456789\n";
  g_autoptr(GHashTable) t = ft_serve_parse_tokens (good, strlen (good), "tok", &e);
  ck_assert_msg (t != NULL, "%s", e ? e->message : "");
  ck_assert_uint_eq (g_hash_table_size (t), 2);
  ck_assert_str_eq (g_hash_table_lookup (t, "0123456789abcdefXYZ"), "cityA");
  static const struct { const char *text, *says; } bad[] = {
    { "cityA short", "tok:1: the token of agency cityA must be 16" },
    { "cityA 0123456789abcdef extra", "tok:1: expected" },
    { "\n\ncity/A 0123456789abcdef", "tok:3: the agency name" },
    { "a 0123456789abcdef\nb 0123456789abcdef", "tok:2: the token of agency b is already given" },
    { "# only comments\n", "no \"AGENCY TOKEN\" lines" },
    { "cityA 0123456789abcdef\x01", "must be 16" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) err = NULL;
      ck_assert (ft_serve_parse_tokens (bad[i].text, strlen (bad[i].text), "tok", &err) == NULL);
      ck_assert_msg (strstr (err->message, bad[i].says), "%s", err->message);
      ck_assert_msg (!strstr (err->message, "0123456789abcdef"), "a token in the message: %s", err->message);
    }
  g_autoptr(GError) nul = NULL;
  ck_assert (ft_serve_parse_tokens ("a 0123456789abcdef\0x", 20, "tok", &nul) == NULL);
}
END_TEST

START_TEST (test_listen)
{
  static const struct { const char *text, *host; guint port; } good[] = {
    { "127.0.0.1:8080", "127.0.0.1", 8080 }, { ":0", "127.0.0.1", 0 }, { "[::1]:443", "::1", 443 },
    { "0.0.0.0:65535", "0.0.0.0", 65535 }, { "localhost:1", "localhost", 1 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *host = NULL;
      guint port = 1234;
      g_autoptr(GError) e = NULL;
      ck_assert_msg (ft_serve_parse_listen (good[i].text, &host, &port, &e), "%s", good[i].text);
      ck_assert_str_eq (host, good[i].host);
      ck_assert_uint_eq (port, good[i].port);
    }
  const char *bad[] = { "", "8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "::1:80",
                        "[::1]80", "[127.0.0.1]:80", "example.org:80", "127.0.0.1:80x", "1.2.3.4:99999999999999" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *host = NULL;
      guint port = 0;
      g_autoptr(GError) e = NULL;
      ck_assert_msg (!ft_serve_parse_listen (bad[i], &host, &port, &e), "accepted '%s'", bad[i]);
      ck_assert (host == NULL);
    }
  ck_assert (ft_serve_host_is_loopback ("127.0.0.1") && ft_serve_host_is_loopback ("127.8.9.1"));
  ck_assert (ft_serve_host_is_loopback ("::1") && ft_serve_host_is_loopback ("localhost"));
  ck_assert (!ft_serve_host_is_loopback ("0.0.0.0") && !ft_serve_host_is_loopback ("10.0.0.1"));
}
END_TEST

START_TEST (test_metrics_exposition)
{
  g_autoptr(FtMetrics) m = ft_metrics_new ();
  g_autofree char *odd = ft_metrics_escape ("a\"b\\c\nd");
  ck_assert_str_eq (odd, "a\\\"b\\\\c\\nd");
  ft_metrics_counter_add (m, "req_total", "Requests", "endpoint=\"/trips\",code=\"200\"", 2);
  ft_metrics_counter_add (m, "req_total", "Requests", "endpoint=\"/trips\",code=\"200\"", 1);
  ft_metrics_counter_add (m, "req_total", "Requests", "endpoint=\"/trips\",code=\"200\"", -5);  /* ignored */
  ft_metrics_gauge_set (m, "speed", "Speed", NULL, 1.5);
  ft_metrics_observe (m, "lat_seconds", "Latency", NULL, 0.003);
  ft_metrics_observe (m, "lat_seconds", "Latency", NULL, 20);
  g_autofree char *text = ft_metrics_render (m);
  ck_assert (strstr (text, "# TYPE req_total counter\nreq_total{endpoint=\"/trips\",code=\"200\"} 3\n"));
  ck_assert (strstr (text, "# TYPE speed gauge\nspeed 1.5\n"));
  ck_assert (strstr (text, "lat_seconds_bucket{le=\"0.0025\"} 0\n"));
  ck_assert (strstr (text, "lat_seconds_bucket{le=\"0.005\"} 1\n"));
  ck_assert (strstr (text, "lat_seconds_bucket{le=\"10\"} 1\n"));
  ck_assert (strstr (text, "lat_seconds_bucket{le=\"+Inf\"} 2\n"));
  ck_assert (strstr (text, "lat_seconds_count 2\n"));
  ck_assert (strstr (text, "lat_seconds_sum 20.003\n"));
}
END_TEST

/* A live store is created empty and fills with epoch-millisecond events; a
 * reader opened on it before the first event must not take it for a
 * simulated run (whose times count from 2024-01-01) and shift every time. */
START_TEST (test_mds_origin_of_empty_store)
{
  g_autofree char *tmp = g_dir_make_tmp ("ft-mds-origin-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (tmp, "live.db", NULL);
  FtCoreConfig cfg;
  ft_core_config_init (&cfg);
  g_autoptr(FtCore) core = ft_core_new (&cfg, NULL, NULL);
  g_autoptr(GError) e = NULL;
  ck_assert_msg (ft_core_attach_store (core, db, NULL, &e), "%s", e ? e->message : "");
  g_autoptr(FtMds) mds = ft_mds_open (db, NULL, &e);
  ck_assert_msg (mds != NULL, "%s", e ? e->message : "");
  FtMdsStats st;
  ft_mds_stats (mds, &st);
  ck_assert_uint_eq (st.n_events, 0);

  const FtTime now = G_GINT64_CONSTANT (1764921600000);   /* 2025-12-05T08:00Z, as live stamps it */
  FtLatLon at = { 52.5, 13.4 };
  ck_assert (ft_fleet_add_vehicle (core->fleet, FT_KIND_SCOOTER, at, NULL, now) != G_MAXUINT);
  ck_assert (ft_core_commit (core, &e));
  gboolean changed = FALSE;
  ck_assert (ft_mds_refresh (mds, &changed, &e) && changed);
  ft_mds_stats (mds, &st);
  ck_assert_uint_eq (st.n_events, 1);
  ck_assert_int_eq (st.newest_ms, now);
  ck_assert_int_eq (ft_mds_time_origin (mds), 0);
  gint64 first = 0, last = 0;
  ck_assert (ft_mds_hours (mds, &first, &last));
  ck_assert_int_eq (first, now);
  g_clear_pointer (&mds, ft_mds_free);
  ck_assert (ft_core_detach_store (core, &e));
  ft_test_rm_rf (tmp);
}
END_TEST

/* The request-head check: each kind of malformed head gets its status and
 * a detail that names the part; a head in pieces is incomplete until its
 * blank line; a good head's length stops at the blank line. */
START_TEST (test_head)
{
  static const struct { const char *head; guint status; const char *detail; } bad[] = {
    { "GARBAGE\r\n\r\n", 400, "request line 'GARBAGE'" },
    { "GET /x HTTP/9.9\r\n\r\n", 505, "HTTP/9.9" },
    { "GET /x HTTP/1.10\r\nHost: a\r\n\r\n", 400, "not an HTTP version" },
    { "GET /x http/1.1\r\nHost: a\r\n\r\n", 400, "not an HTTP version" },
    { "GET /x\r\nHost: a\r\n\r\n", 400, "the target must be followed" },
    { "GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "is not a path" },
    { "GET /trips?end_time=%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400, "two hex digits" },
    { "GET /a% HTTP/1.1\r\nHost: a\r\n\r\n", 400, "two hex digits" },
    { "G(T /x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "method" },
    { "GET /x HTTP/1.1\r\n\r\n", 400, "Host" },
    { "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "Host is given twice" },
    { "GET /x HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n", 400, "header 2 'nocolon': no colon" },
    { "GET /x HTTP/1.1\r\nHost: a\r\nX Y: 1\r\n\r\n", 400, "header 2" },
    { "GET /x HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n", 400, "no name before the colon" },
    { "GET /x HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", 400, "folded" },
    { "GET /x HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n", 400, "control character" },
    { "GET /x HTTP/1.1\r\nHost: a\rX: 1\r\n\r\n", 400, "bare CR" },
    { "GET /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "Transfer-Encoding" },
    { "GET /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
      "only chunked, once" },
    { "GET /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", 400, "both" },
    { "GET /x HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417, "Expect '200-ok'" },
    { "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400, "Content-Length '1x'" },
    { "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400, "Content-Length ''" },
    { "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "twice" },
    { "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456\r\n\r\n", 400, "not a length" },
    { "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n", 413, "2000000 bytes" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      FtHeadVerdict v;
      FtHeadResult r = ft_serve_check_head (bad[i].head, strlen (bad[i].head), 0, &v);
      ck_assert_msg (r == FT_HEAD_BAD, "accepted %s", bad[i].head);
      ck_assert_msg (v.status == bad[i].status, "%s: status %u, want %u (%s)", bad[i].head, v.status,
                     bad[i].status, v.detail);
      ck_assert_msg (bad[i].detail == NULL || strstr (v.detail, bad[i].detail) != NULL, "%s: detail '%s'",
                     bad[i].head, v.detail);
      ck_assert (v.error[0] != '\0');
      gsize n = 0;
      g_autofree char *resp = ft_serve_head_response (&v, &n);
      ck_assert_uint_eq (n, strlen (resp));
      g_autofree char *line = g_strdup_printf ("HTTP/1.1 %u ", bad[i].status);
      ck_assert (g_str_has_prefix (resp, line));
      ck_assert (strstr (resp, "\r\nContent-Type: application/json\r\n") != NULL);
      ck_assert (strstr (resp, "\"error_details\"") != NULL);
    }
  /* a NUL byte inside; a head over the limit; too many headers */
  FtHeadVerdict v;
  ck_assert_int_eq (ft_serve_check_head ("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", 29, 0, &v), FT_HEAD_BAD);
  ck_assert_uint_eq (v.status, 400);
  g_autofree char *big = g_strnfill (200, 'x');
  ck_assert_int_eq (ft_serve_check_head (big, 200, 100, &v), FT_HEAD_BAD);
  ck_assert_uint_eq (v.status, 431);
  GString *many = g_string_new ("GET / HTTP/1.1\r\nHost: a\r\n");
  for (guint i = 0; i < 150; i++)
    g_string_append (many, "X: 1\r\n");
  g_string_append (many, "\r\n");
  ck_assert_int_eq (ft_serve_check_head (many->str, many->len, 0, &v), FT_HEAD_BAD);
  ck_assert_uint_eq (v.status, 431);
  g_string_free (many, TRUE);

  /* good heads: the length stops at the blank line; pieces are incomplete */
  static const char *const good[] = {
    "GET /health HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /health HTTP/1.0\r\n\r\n",
    "\r\n\r\nGET /health HTTP/1.1\nHost: a\n\n",
    "POST /trips?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  Chunked \r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Utf8: caf\xc3\xa9\r\n\r\n",
    "GET http://a/health HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /trips?end_time=2024-01-01T08%3A00 HTTP/1.1\r\nHost: a\r\n\r\n",
  };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *with_body = g_strconcat (good[i], "hello", NULL);
      gsize n = strlen (good[i]);
      ck_assert_msg (ft_serve_check_head (with_body, n + 5, 0, &v) == FT_HEAD_OK, "%s: %s", good[i], v.detail);
      ck_assert_uint_eq (v.head_len, n);
      for (gsize k = 0; k + 1 < n; k++)
        ck_assert_msg (ft_serve_check_head (good[i], k, 0, &v) == FT_HEAD_INCOMPLETE, "%s cut at %" G_GSIZE_FORMAT,
                       good[i], k);
    }
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("serve-params");
  TCase *tc = tcase_create ("parsers");
  tcase_add_test (tc, test_query_good);
  tcase_add_test (tc, test_query_bad);
  tcase_add_test (tc, test_hours);
  tcase_add_test (tc, test_tokens);
  tcase_add_test (tc, test_listen);
  tcase_add_test (tc, test_head);
  suite_add_tcase (s, tc);
  TCase *mt = tcase_create ("metrics");
  tcase_add_test (mt, test_metrics_exposition);
  suite_add_tcase (s, mt);
  TCase *mds = tcase_create ("mds");
  tcase_set_timeout (mds, 60);
  tcase_add_test (mds, test_mds_origin_of_empty_store);
  suite_add_tcase (s, mds);
  SRunner *sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
