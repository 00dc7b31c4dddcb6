"""The workflow definitions, as plain data.

``engine.load_definition`` validates these at import time (see ``workflows/__init__.py``);
the permission checks, the UI's buttons and the diagram are all derived from them.
"""

from __future__ import annotations

from typing import Any, Final

CONTRIBUTION: Final[dict[str, Any]] = {
    "name": "contribution",
    "states": [
        {"name": "draft", "label_sv": "Utkast", "label_en": "Draft"},
        {"name": "police_review", "label_sv": "Polisgranskning", "label_en": "Police review"},
        {"name": "returned", "label_sv": "Återsänd", "label_en": "Returned"},
        {"name": "reviewed", "label_sv": "Granskad", "label_en": "Reviewed"},
        {"name": "consolidated", "label_sv": "Sammanställd", "label_en": "Consolidated"},
        {"name": "approved", "label_sv": "Fastställd", "label_en": "Approved"},
    ],
    "initial": "draft",
    "final": ["approved"],
    "editors": {
        "drafter": {"states": ["draft", "returned"], "cause": "edit"},
        # The consolidator adjusts wording while the period's consolidation is still open.
        "consolidator": {
            "states": ["reviewed", "consolidated"],
            "cause": "consolidation_edit",
            "guards": ["consolidation_open"],
        },
    },
    "transitions": [
        {
            "trigger": "submit",
            "source": ["draft"],
            "dest": "police_review",
            "roles": ["drafter"],
            "guards": ["all_sections_filled"],
            "label_sv": "Skicka till polisen",
            "label_en": "Submit to police",
            "done_sv": "Skickad till polisen",
            "done_en": "Submitted to police",
        },
        {
            "trigger": "withdraw",
            "source": ["police_review"],
            "dest": "draft",
            "roles": ["drafter"],
            "guards": ["is_submitter"],
            "label_sv": "Dra tillbaka",
            "label_en": "Withdraw",
            "done_sv": "Tillbakadragen",
            "done_en": "Withdrawn",
        },
        {
            "trigger": "approve",
            "source": ["police_review"],
            "dest": "reviewed",
            "roles": ["reviewer"],
            "guards": ["not_submitter_or_editor"],
            "label_sv": "Godkänn",
            "label_en": "Approve",
            "done_sv": "Godkänd av polisen",
            "done_en": "Approved by the police",
        },
        {
            "trigger": "return",
            "source": ["police_review"],
            "dest": "returned",
            "roles": ["reviewer"],
            "guards": ["not_submitter_or_editor"],
            "remarks_required": True,
            "label_sv": "Skicka tillbaka",
            "label_en": "Return for changes",
            "done_sv": "Återsänd för ändringar",
            "done_en": "Returned for changes",
        },
        {
            "trigger": "resubmit",
            "source": ["returned"],
            "dest": "police_review",
            "roles": ["drafter"],
            "guards": ["all_sections_filled"],
            "label_sv": "Skicka till polisen igen",
            "label_en": "Resubmit to police",
            "done_sv": "Skickad till polisen igen",
            "done_en": "Resubmitted to police",
        },
        {
            "trigger": "consolidate",
            "source": ["reviewed"],
            "dest": "consolidated",
            "roles": ["consolidator"],
            "guards": ["consolidation_open"],
            "label_sv": "Sammanställ",
            "label_en": "Consolidate",
            "done_sv": "Sammanställd",
            "done_en": "Consolidated",
        },
        {
            "trigger": "reopen",
            "source": ["reviewed", "consolidated"],
            "dest": "returned",
            "roles": ["consolidator"],
            "guards": ["consolidation_open"],
            "reason_required": True,
            "label_sv": "Öppna igen",
            "label_en": "Reopen",
            "done_sv": "Återöppnad",
            "done_en": "Reopened",
        },
        {
            # Fired only by the system, for every contribution, when the consolidation is approved.
            "trigger": "finalize",
            "source": ["consolidated"],
            "dest": "approved",
            "internal": True,
            "label_sv": "Fastställ",
            "label_en": "Finalise",
            "done_sv": "Fastställd",
            "done_en": "Approved",
            "when_sv": "När periodens sammanställning fastställs.",
            "when_en": "When the period's consolidation is approved.",
        },
        {
            # Fired only by the system, when a coordinator imports an old lägesbild that was
            # approved outside the system into a period's empty draft. The contribution is
            # final but marked imported: nobody approved it in the system.
            "trigger": "import_approved",
            "source": ["draft"],
            "dest": "approved",
            "internal": True,
            "label_sv": "Importera (fastställd utanför systemet)",
            "label_en": "Import (approved outside the system)",
            "done_sv": "Importerad (fastställd utanför systemet)",
            "done_en": "Imported (approved outside the system)",
            "when_sv": "När en samordnare importerar en äldre lägesbild som fastställts utanför "
                       "systemet; den märks som importerad, inte som fastställd här.",
            "when_en": "When a coordinator imports an older lägesbild approved outside the "
                       "system; it is marked imported, not approved here.",
        },
    ],
}

CONSOLIDATION: Final[dict[str, Any]] = {
    "name": "consolidation",
    "states": [
        {"name": "open", "label_sv": "Öppen", "label_en": "Open"},
        {
            "name": "awaiting_approval",
            "label_sv": "Väntar på fastställelse",
            "label_en": "Awaiting approval",
        },
        {"name": "approved", "label_sv": "Fastställd", "label_en": "Approved"},
    ],
    "initial": "open",
    "final": ["approved"],
    "editors": {},
    "transitions": [
        {
            "trigger": "submit_for_approval",
            "source": ["open"],
            "dest": "awaiting_approval",
            "roles": ["consolidator"],
            "guards": ["all_contributions_settled"],
            "label_sv": "Skicka för fastställelse",
            "label_en": "Submit for approval",
            "done_sv": "Skickad för fastställelse",
            "done_en": "Submitted for approval",
        },
        {
            "trigger": "approve",
            "source": ["awaiting_approval"],
            "dest": "approved",
            "roles": ["approver"],
            "guards": ["not_consolidator"],
            "label_sv": "Fastställ",
            "label_en": "Approve",
            "done_sv": "Fastställd",
            "done_en": "Approved",
        },
        {
            "trigger": "return",
            "source": ["awaiting_approval"],
            "dest": "open",
            "roles": ["approver"],
            "guards": ["not_consolidator"],
            "remarks_required": True,
            "label_sv": "Skicka tillbaka",
            "label_en": "Return to the consolidator",
            "done_sv": "Återsänd till samordnaren",
            "done_en": "Returned to the consolidator",
        },
    ],
}
