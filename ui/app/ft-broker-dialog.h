/* ft-broker-dialog.h — live mode's broker settings: URL (mqtt:// or
 * mqtts://), fleet prefix, user name, password, CA file, client certificate
 * and key, MQTT version, and live operations (propose tasks from live
 * state, auto-approve them: role-checked when connecting). Everything but the password is stored in GSettings;
 * libsecret is not a dependency, so the password lives only in memory for
 * the session (the window keeps it) and is never written anywhere.
 */
#pragma once

#include <gtk/gtk.h>
#include "ft-live.h"

G_BEGIN_DECLS

#define FT_TYPE_BROKER_DIALOG (ft_broker_dialog_get_type ())
G_DECLARE_FINAL_TYPE (FtBrokerDialog, ft_broker_dialog, FT, BROKER_DIALOG, GtkWindow)

/* settings may be NULL (fields then start empty and nothing is stored).
 * Emits "apply" with the password (may be "") when Connect is pressed;
 * the other fields are in settings by then. */
FtBrokerDialog *ft_broker_dialog_new (GtkWindow *parent, GSettings *settings, const char *password);

/* Fills cfg (ft_live_config_init'ed by the caller) from settings and the
 * in-memory password. */
void            ft_broker_settings_to_config (GSettings *settings, const char *password, FtLiveConfig *cfg);

G_END_DECLS
