/* ft-live-private.h — helpers shared by the adapter (ft-live.c) and the
 * emulator (ft-live-emu.c): library init, URL / TLS set-up on a mosquitto
 * handle, and JSON field readers that refuse wrong types and non-finite
 * or out-of-range numbers instead of casting them.
 */
#pragma once

#include "ft-live.h"
#include <mosquitto.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

void      ft_live_lib_init_once (void);
/* Apply URL credentials, TLS files and protocol to a fresh handle. */
gboolean  ft_live_setup_mosq    (struct mosquitto *mosq, const FtLiveConfig *cfg,
                                 const FtLiveUrl *url, GError **error);
/* Human text for a CONNACK code (v3 or v5 reason code). */
const char *ft_live_connack_text (int rc, int protocol, gboolean *is_auth);

/* Maximum bracket nesting of a JSON text (outside strings); stops early
 * once `limit` is passed. Guards json-glib's recursive parser. */
guint     ft_live_json_depth    (const char *s, gsize len, guint limit);

/* Field readers: FALSE if absent; *bad set TRUE if present but unusable. */
gboolean  ft_live_json_number   (JsonObject *o, const char *name, double *out, gboolean *bad);
gboolean  ft_live_json_int64    (JsonObject *o, const char *name, gint64 *out, gboolean *bad);
const char *ft_live_json_string (JsonObject *o, const char *name, gboolean *bad);
gboolean  ft_live_json_bool     (JsonObject *o, const char *name, gboolean *out, gboolean *bad);

/* Outgoing payloads. Every JSON text the adapter and the emulator send is
 * written through these (json-glib's JsonBuilder and JsonGenerator), so
 * every string in it is escaped, whatever a client id or reason holds.
 * begin opens an object; end closes it and returns the text (g_free). */
JsonBuilder *ft_live_json_begin  (void);
void      ft_live_json_put_str  (JsonBuilder *b, const char *name, const char *value);
void      ft_live_json_put_int  (JsonBuilder *b, const char *name, gint64 value);
/* Rounded to `decimals`; a non-finite value is written as null. */
void      ft_live_json_put_num  (JsonBuilder *b, const char *name, double value, int decimals);
char     *ft_live_json_end      (JsonBuilder *b, gsize *len_out);

/* The twin's outgoing messages (see MQTT-CONTRACT.md). */
char     *ft_live_command_payload    (const FtLiveCommand *c, FtTime now, gsize *len_out);
char     *ft_live_assignment_payload (const FtLiveAssignment *a, FtTime now, gsize *len_out);
char     *ft_live_status_payload     (const char *status, FtTime now, gsize *len_out);

G_END_DECLS
