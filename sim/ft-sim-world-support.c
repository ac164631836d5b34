/* ft-sim-world-support.c — riders who hit a problem contact support
 * ([support] in a scenario): a refused parking or a failed unlock, with
 * probability contact_share, and a finished trip whose charge the rider
 * questions, with probability charge_query_share, each on the stream
 * "riders.support". The rider's message goes to the real assistant
 * (src/assist) on the world's core, which answers from the rider's state
 * or hands off to staff. With probability escalate_share the rider is not
 * satisfied and follows up in the same conversation: a questioned charge
 * becomes a refund request (confirmed with "yes"), any other problem a
 * request for a person. The KPIs count conversations: contacts, those
 * resolved without a person (no hand-off and the last answer resolved),
 * and those handed off.
 */
#include "ft-sim-world-private.h"

#include <gsl/gsl_rng.h>

static const char *const parking_msgs[] = {
  "I can't end my ride here, it says parking is not allowed",
  "where can I park? the app won't let me end the trip",
  "the ride won't stop, no parking zone",
};
static const char *const unlock_msgs[] = {
  "the scooter won't unlock",
  "unlock failed, why can't I start?",
  "I reserved a vehicle but I can't unlock it",
};
static const char *const charge_msgs[] = {
  "why was I charged so much for my last ride?",
  "can you explain the charge for this trip",
  "the price of my trip seems wrong",
};

gboolean
ft_sim_world_setup_support (FtSimWorld *w, GError **error)
{
  if (!(w->sc->support_contact_share > 0) && !(w->sc->support_charge_query_share > 0))
    return TRUE;
  w->r_support = ft_sim_rng_stream (w->rng, "riders.support");
  w->assist = ft_assist_new (w->core, NULL, error);
  if (!w->assist)
    {
      g_prefix_error (error, "[support]: ");
      return FALSE;
    }
  return TRUE;
}

void
ft_sim_world_support_contact (FtSimWorld *w, guint rider, FtSimProblem problem, FtTime now)
{
  const char *const *msgs;
  double share;
  g_autoptr (GError) err = NULL;

  if (!w->assist)
    return;
  switch (problem)
    {
    case FT_SIM_PROBLEM_PARKING:
      msgs = parking_msgs;
      share = w->sc->support_contact_share;
      break;
    case FT_SIM_PROBLEM_UNLOCK:
      msgs = unlock_msgs;
      share = w->sc->support_contact_share;
      break;
    case FT_SIM_PROBLEM_CHARGE:
    default:
      msgs = charge_msgs;
      share = w->sc->support_charge_query_share;
      break;
    }
  if (!(share > 0) || ft_sim_rng_draw (w->r_support) >= share)
    return;
  const char *text = msgs[gsl_rng_uniform_int (w->r_support, 3)];
  gboolean escalate = w->sc->support_escalate_share > 0 &&
                      ft_sim_rng_draw (w->r_support) < w->sc->support_escalate_share;
  const char *follow[3] = { text, NULL, NULL };
  if (escalate && problem == FT_SIM_PROBLEM_CHARGE)
    {
      follow[1] = "I want a refund for that trip";
      follow[2] = "yes";
    }
  else if (escalate)
    follow[1] = "this doesn't help, I want to talk to a person";

  gboolean handed_off = FALSE, resolved = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (follow) && follow[i] != NULL; i++)
    {
      g_autoptr (FtAssistReply) r = ft_assist_ask (w->assist, rider, follow[i], -1, NULL, now, &err);
      if (!r)
        {
          ft_sim_world_sim_error (w, "support contact", err);
          return;
        }
      handed_off |= r->handoff >= 0;
      resolved = r->resolved;
      /* "yes" answers an offer only: without one the rider stops */
      if (i == 1 && follow[2] != NULL && r->pending == FT_ASSIST_ACTION_NONE)
        break;
    }
  w->support_contacts++;
  if (handed_off)
    w->support_handoffs++;
  else if (resolved)
    w->support_resolved++;
}
