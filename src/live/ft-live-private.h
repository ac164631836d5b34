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

G_END_DECLS
