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


# Each page also carries the schedule of standard provisions, so a page is about one chunk.
STANDARD = (
    "Standard provisions, page {page}. Notices under this agreement are given in writing to the "
    "addresses above. A waiver of one breach is not a waiver of any other breach. If a court "
    "finds a provision unenforceable, the remaining provisions stay in effect. This agreement "
    "is the entire agreement between the parties and replaces earlier discussions. Headings are "
    "for convenience only. The Tenant may not assign this lease or sublet the premises without "
    "the Landlord's prior written consent, which the Landlord will not unreasonably withhold. "
    "The Landlord may enter the premises for inspection or repair after 24 hours notice, except "
    "in an emergency. The Tenant keeps renter's insurance covering personal property and "
    "liability for the whole term. Smoking is not permitted inside the building. Quiet hours "
    "run from 10 pm to 7 am. The Tenant disposes of garbage and recycling in the bins provided. "
    "Keys and access cards are returned at the end of the term; lost keys are replaced at the "
    "Tenant's cost. Parking is limited to the space assigned in the parking schedule."
)


def main() -> None:
    document = pymupdf.open()
    for number, (title, paragraphs) in enumerate(PAGES, start=1):
        page = document.new_page()
        box = pymupdf.Rect(60, 60, page.rect.width - 60, page.rect.height - 60)
        text = "\n\n".join([title, *paragraphs, STANDARD.format(page=number)])
        page.insert_textbox(box, text, fontsize=10)
    target = Path(__file__).with_name("lease-agreement.pdf")
    document.save(target, garbage=4, deflate=True)
    document.close()
    print(target)


if __name__ == "__main__":
    main()
