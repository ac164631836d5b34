/* ft-assist-backend.c — the optional language-model backend: an
 * OpenAI-compatible chat completions endpoint (e.g. a local llama.cpp
 * server) at a URL the operator sets; off by default. The model gets the
 * rider's message and the assistant's functions as tools (one per intent,
 * each answering from the rider's real state); a tool call runs the same
 * code as the offline assistant, so the model can only phrase what the
 * modules say. At most three rounds; any failure (no server, timeout, a
 * bad reply) is an error and the caller answers offline.
 */
#include "ft-assist-private.h"
#include "ft-json.h"

#include <libsoup/soup.h>
#include <string.h>

#define MAX_ROUNDS 3
#define MAX_REPLY  (1 << 20)

static const char *const tool_help[FT_N_INTENTS] = {
  "Find available vehicles near the rider (optionally for a trip of km).",
  "Explain the charge of the rider's trip (latest, or on a vehicle code).",
  "Why the rider cannot end the ride here (geofence) and where to park instead; proposes ending.",
  "Diagnose a failed unlock (account, debt, vehicle state, battery).",
  "Battery and range of the rider's vehicle or a vehicle code.",
  "Propose a refund request for a trip (needs the rider's confirmation).",
  "Propose a damage report for a vehicle (needs the rider's confirmation).",
  "Report a badly parked vehicle to the field team.",
  "Account data: show it, export it, or propose erasure.",
  "Lost item: where the last trip's vehicle is; asks the field team to check.",
  "Wallet balance, debt, and a proposed top-up of an amount.",
  "Relocation rewards earned and offers.",
  "Hand the conversation to a person.",
  "Anything else: say what the assistant can help with.",
};

static JsonNode *
tools_json (void)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < FT_N_INTENTS; i++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "function");
      json_builder_set_member_name (b, "function");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, ft_intent_name ((FtIntent) i));
      json_builder_set_member_name (b, "description");
      json_builder_add_string_value (b, tool_help[i]);
      json_builder_set_member_name (b, "parameters");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "object");
      json_builder_set_member_name (b, "properties");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "vehicle");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "string");
      json_builder_end_object (b);
      json_builder_set_member_name (b, "amount");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "number");
      json_builder_end_object (b);
      json_builder_set_member_name (b, "km");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "number");
      json_builder_end_object (b);
      json_builder_end_object (b);
      json_builder_end_object (b);
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

static JsonNode *
message_node (const char *role, const char *content, const char *tool_call_id)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, role);
  json_builder_set_member_name (b, "content");
  json_builder_add_string_value (b, content);
  if (tool_call_id)
    {
      json_builder_set_member_name (b, "tool_call_id");
      json_builder_add_string_value (b, tool_call_id);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* POST the conversation; returns choices[0].message (a new node). */
static JsonNode *
post (SoupSession *s, const char *url, const char *model, JsonNode *messages, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GBytes) resp = NULL;
  g_autoptr(JsonNode) req = NULL, root = NULL;
  char *text;
  gsize n = 0;
  const char *data;
  JsonArray *choices;
  JsonObject *first, *m;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model);
  json_builder_set_member_name (b, "messages");
  json_builder_add_value (b, json_node_copy (messages));
  json_builder_set_member_name (b, "tools");
  json_builder_add_value (b, tools_json ());
  json_builder_set_member_name (b, "temperature");
  json_builder_add_double_value (b, 0.0);
  json_builder_end_object (b);
  req = json_builder_get_root (b);
  text = ft_json_to_string (req, FALSE);

  msg = soup_message_new ("POST", url);
  if (!msg)
    {
      g_free (text);
      g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_BACKEND, "backend URL %s is not a valid URL", url);
      return NULL;
    }
  {
    g_autoptr(GBytes) body = g_bytes_new_take (text, strlen (text));
    soup_message_set_request_body_from_bytes (msg, "application/json", body);
  }
  resp = soup_session_send_and_read (s, msg, NULL, error);
  if (!resp)
    {
      g_prefix_error (error, "backend %s: ", url);
      return NULL;
    }
  if (soup_message_get_status (msg) != SOUP_STATUS_OK)
    {
      g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_BACKEND, "backend %s answered HTTP %u", url,
                   soup_message_get_status (msg));
      return NULL;
    }
  data = g_bytes_get_data (resp, &n);
  root = ft_json_parse (data, (gssize) n, "backend reply", 0, MAX_REPLY, error);
  if (!root)
    return NULL;
  choices = ft_json_get_array (ft_json_object_of (root), "choices");
  first = choices ? ft_json_array_object (choices, 0) : NULL;
  m = first ? ft_json_get_object (first, "message") : NULL;
  if (!m)
    {
      g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_BACKEND, "backend reply has no choices[0].message");
      return NULL;
    }
  return json_node_init_object (json_node_alloc (), m);
}

char *
ft_assist_backend_chat (const FtAssistConfig *cfg, const char *message, const char *hint,
                        FtAssistToolFunc tool, gpointer user_data, GError **error)
{
  g_autoptr(SoupSession) s = NULL;
  g_autoptr(JsonNode) conv = json_node_init_array (json_node_alloc (), json_array_new ());
  JsonArray *msgs = json_node_get_array (conv);
  g_autofree char *url = NULL;
  g_autofree char *system = NULL;

  g_return_val_if_fail (cfg && cfg->llm_url, NULL);
  url = g_str_has_suffix (cfg->llm_url, "/chat/completions") ? g_strdup (cfg->llm_url)
        : g_strdup_printf ("%s%sv1/chat/completions", cfg->llm_url,
                           g_str_has_suffix (cfg->llm_url, "/") ? "" : "/");
  s = soup_session_new_with_options ("timeout", MAX (1u, (cfg->llm_timeout_ms + 999) / 1000),
                                     "idle-timeout", 1, NULL);
  system = g_strdup_printf ("You are the support assistant of a scooter and bike sharing service. "
                            "Answer the rider only with facts returned by the functions; call the "
                            "function that fits (the offline classifier suggests %s). Be brief.", hint);
  json_array_add_element (msgs, message_node ("system", system, NULL));
  json_array_add_element (msgs, message_node ("user", message, NULL));

  for (int round = 0; round < MAX_ROUNDS; round++)
    {
      g_autoptr(JsonNode) reply = post (s, url, cfg->llm_model ? cfg->llm_model : "local", conv, error);
      JsonObject *m;
      JsonArray *calls;
      if (!reply)
        return NULL;
      m = json_node_get_object (reply);
      calls = ft_json_get_array (m, "tool_calls");
      if (!calls || json_array_get_length (calls) == 0)
        {
          const char *content = ft_json_get_string (m, "content");
          if (!content || !*content || !g_utf8_validate (content, -1, NULL))
            {
              g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_BACKEND, "backend reply has no text");
              return NULL;
            }
          return g_strdup (content);
        }
      json_array_add_element (msgs, json_node_copy (reply));
      for (guint i = 0; i < json_array_get_length (calls) && i < 4; i++)
        {
          JsonObject *call = ft_json_array_object (calls, i);
          JsonObject *fn = call ? ft_json_get_object (call, "function") : NULL;
          const char *name = fn ? ft_json_get_string (fn, "name") : NULL;
          const char *args = fn ? ft_json_get_string (fn, "arguments") : NULL;
          const char *id = call ? ft_json_get_string (call, "id") : NULL;
          g_autofree char *result = NULL;
          if (!name)
            {
              g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_BACKEND, "backend tool call has no name");
              return NULL;
            }
          result = tool (name, args ? args : "{}", user_data);
          json_array_add_element (msgs, message_node ("tool", result, id ? id : "call"));
        }
    }
  g_set_error (error, FT_ASSIST_ERROR, FT_ASSIST_ERROR_BACKEND, "backend did not answer within %d rounds",
               MAX_ROUNDS);
  return NULL;
}
