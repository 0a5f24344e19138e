"""Regenerates samples/lease-agreement.pdf, the document `make run` ingests.

Run: .venv/bin/python samples/make_sample.py
"""

from __future__ import annotations

from pathlib import Path

import pymupdf

PAGES = [
    (
        "RESIDENTIAL LEASE AGREEMENT",
        [
            "This Residential Lease Agreement is made between Harbor Street Properties LLC "
            "(the Landlord) and Jordan Ellis (the Tenant) for the premises at 14 Harbor Street, "
            "Apartment 3B.",
            "1. Term. The lease begins on March 1 and ends on the last day of February of the "
            "following year, unless ended earlier under Section 9.",
            "2. Rent. The Tenant pays monthly rent of 1,850 dollars on the first day of each "
            "month. Rent paid after the fifth day incurs a late fee of 75 dollars.",
        ],
    ),
    (
        "DEPOSIT AND MAINTENANCE",
        [
            "3. Security deposit. The Tenant pays a security deposit of 3,700 dollars. The "
            "Landlord refunds the security deposit within 30 days after the Tenant moves out, "
            "less the cost of repairing damage beyond normal wear and tear, with an itemized "
            "statement of deductions.",
            "4. Maintenance. The Landlord keeps the heating, plumbing and electrical systems in "
            "good repair. The Tenant reports water leaks within 24 hours.",
            "5. Pets. No pets are allowed without the Landlord's written consent.",
        ],
    ),
    (
        "TERMINATION AND DISPUTES",
        [
            "9. Early termination. Either party may end the lease with 60 days written notice "
            "and payment of one month's rent as an early termination fee.",
            "10. Disputes. The parties first try mediation. Any remaining dispute is resolved by "
            "the county court where the premises are located.",
            "Signed by the Landlord and the Tenant on the date first written above.",
        ],
    ),
]


def main() -> None:
    document = pymupdf.open()
    for title, paragraphs in PAGES:
        page = document.new_page()
        box = pymupdf.Rect(60, 60, page.rect.width - 60, page.rect.height - 60)
        page.insert_textbox(box, title + "\n\n" + "\n\n".join(paragraphs), fontsize=11)
    target = Path(__file__).with_name("lease-agreement.pdf")
    document.save(target, garbage=4, deflate=True)
    document.close()
    print(target)


if __name__ == "__main__":
    main()
