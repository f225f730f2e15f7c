"""Screening questions before each session (CLINICAL.md, "Screening")."""

from __future__ import annotations

CONTRAINDICATIONS = {
    "uncontrolled_hypertension": "Uncontrolled hypertension",
    "vascular": "Aneurysmal vascular disease or arteriovenous malformation",
    "intracerebral_haemorrhage": "History of intracerebral haemorrhage",
    "pregnancy": "Pregnancy or breastfeeding",
    "psychosis": "Active psychosis",
    "substance_use": "History of substance use disorder (caution)",
    "organ_disease": "Severe heart, lung or liver disease",
    "seizures": "Seizures",
    "hypersensitivity": "Hypersensitivity to ketamine",
}
WHY_IT_MATTERS = (
    # Shown to clinicians: the source (CLINICAL.md, "Screening") is named here, not there.
    "These are label contraindications and clinic cautions for ketamine. Ketamine raises "
    "blood pressure; uncontrolled hypertension is the key risk."
)
# Concomitant medicines that change monitoring (CLINICAL.md; asked on the REMS form).
MEDICINES = {
    "benzodiazepines": "Benzodiazepines",
    "sedative_hypnotics": "Non-benzodiazepine sedative-hypnotics",
    "psychostimulants": "Psychostimulants",
    "maois": "MAOIs",
}
