"""A retrieval evaluation set: 48 short passages of the kind a legal platform holds, and 64
queries, each naming the passage it should find. Written for this project (its licence).

Three classes of query:
  identifier  an exact reference as a user pastes it: a case, invoice, policy or part number
  keywords    the passage's own words, a few of them, in another order
  paraphrase  the same request in other words (few or none of the passage's content words)
"""

from __future__ import annotations

PASSAGES: dict[str, str] = {
    "lease-deposit": (
        "The tenant shall pay a security deposit of two months' rent before the lease begins. "
        "The landlord will return the deposit within thirty days after the tenant moves out, "
        "less the cost of repairing damage beyond normal wear."
    ),
    "lease-pets": (
        "No animals may be kept in the apartment without the landlord's written consent. "
        "A resident keeping a dog or cat without consent pays a fee of 250 dollars per month."
    ),
    "lease-renewal": (
        "This lease renews automatically for one year unless either party gives written notice "
        "of termination at least sixty days before the end of the term."
    ),
    "employment-noncompete": (
        "For twelve months after leaving the company the employee shall not work for a "
        "competitor within fifty miles of any office where the employee was based."
    ),
    "employment-overtime": (
        "Hours worked beyond forty in a week are paid at one and a half times the regular "
        "hourly wage; overtime must be approved in advance by a supervisor."
    ),
    "employment-severance": (
        "If the company ends the employment without cause it pays severance equal to two weeks "
        "of salary for each full year of service, up to twenty-six weeks."
    ),
    "nda-term": (
        "The receiving party keeps the disclosing party's confidential information secret for "
        "five years after the date of disclosure and uses it only to evaluate the proposed deal."
    ),
    "nda-return": (
        "On request the recipient must return or destroy all documents containing confidential "
        "information and certify the destruction in writing within ten business days."
    ),
    "case-filing": (
        "Case number 2026-CV-00417 was filed in the district court on March 3 by Harmon Logistics "
        "against Brightwater Foods for breach of a supply contract."
    ),
    "case-hearing": (
        "The hearing on the motion to dismiss in case 2025-CR-11893 is set for Tuesday, "
        "April 14, at nine in the morning before Judge Okafor."
    ),
    "case-settlement": (
        "The parties to case 2024-CV-07762 settled for 1.2 million dollars, payable in four "
        "quarterly installments, without admission of liability."
    ),
    "case-appeal": (
        "Notice of appeal in matter 2023-AP-00291 must be filed within thirty days of the final "
        "judgment; the appellant bears the cost of the transcript."
    ),
    "invoice-wire": (
        "Invoice INV-20931 for consulting services was paid by wire transfer on March 28; the "
        "bank reference is WT-5581-Q."
    ),
    "invoice-late": (
        "Invoice INV-31877 is ninety days overdue; interest accrues at one and a half percent "
        "per month on the unpaid balance from the due date."
    ),
    "invoice-dispute": (
        "The customer disputes invoice INV-44102, claiming the delivered pallets were short by "
        "twelve cartons, and withholds payment pending a recount."
    ),
    "insurance-denial": (
        "The insurer denied claim CLM-88214 because policy POL-5532-A had expired two weeks "
        "before the water damage occurred."
    ),
    "insurance-flood": (
        "Flood damage is excluded from policy POL-7710-C unless the insured bought the separate "
        "flood endorsement and paid its premium."
    ),
    "insurance-deductible": (
        "Each claim under policy POL-2290-B is subject to a deductible of 1,000 dollars, and "
        "windstorm claims to two percent of the insured value."
    ),
    "supply-delivery": (
        "The seller shall deliver the goods to the buyer's warehouse in Rotterdam by the end of "
        "March; risk passes to the buyer on delivery."
    ),
    "supply-penalty": (
        "For every week of late delivery the supplier pays liquidated damages of half a percent "
        "of the order value, capped at ten percent."
    ),
    "supply-part": (
        "Replacement part number HX-4471-B fits pump models 300 and 310 and ships from the "
        "Dayton distribution center within two days."
    ),
    "supply-warranty": (
        "The manufacturer warrants the compressors against defects in materials and "
        "workmanship for thirty-six months from installation."
    ),
    "loan-rate": (
        "The loan bears interest at the prime rate plus two percent, adjusted on the first day "
        "of each calendar quarter."
    ),
    "loan-default": (
        "Failure to pay any installment within fifteen days of its due date is an event of "
        "default, and the lender may demand the whole balance at once."
    ),
    "loan-collateral": (
        "The borrower pledges the delivery trucks registered under fleet number FL-2093 as "
        "collateral for the credit line."
    ),
    "will-executor": (
        "I appoint my sister, Margaret Ellison, as executor of this will, and my nephew, Daniel "
        "Ellison, as alternate if she cannot serve."
    ),
    "will-bequest": (
        "I leave my house at 14 Alder Lane to my daughter and divide the rest of my estate "
        "equally among my grandchildren."
    ),
    "property-easement": (
        "Parcel 118-22-0457 is subject to a utility easement ten feet wide along its northern "
        "boundary for the water company's pipes."
    ),
    "property-closing": (
        "Closing on the sale of the warehouse will take place on June 30; the buyer pays the "
        "transfer tax and the seller pays for the title search."
    ),
    "property-inspection": (
        "The purchase is contingent on a satisfactory home inspection completed within ten days "
        "of acceptance of the offer."
    ),
    "ip-license": (
        "The licensor grants a non-exclusive license to use the patented filtration process in "
        "North America in exchange for a royalty of four percent of net sales."
    ),
    "ip-patent": (
        "Patent US 11,482,907 covers a method of recycling lithium from spent battery cells by "
        "low-temperature leaching."
    ),
    "ip-trademark": (
        "The company must stop using the name Blue Heron Coffee, which infringes a registered "
        "trademark, within sixty days."
    ),
    "privacy-data": (
        "Personal data collected through the app is stored in the European Union and deleted "
        "twelve months after the user closes the account."
    ),
    "privacy-breach": (
        "In the event of a data breach the processor notifies the controller without undue "
        "delay and in any case within seventy-two hours."
    ),
    "corporate-board": (
        "The board of directors meets at least four times a year; a quorum is a majority of the "
        "directors then in office."
    ),
    "corporate-shares": (
        "No shareholder may sell shares to an outside party without first offering them to the "
        "other shareholders at the same price."
    ),
    "corporate-dividend": (
        "Dividends are paid only out of retained earnings and only after the board approves "
        "the annual financial statements."
    ),
    "construction-delay": (
        "The contractor may extend the completion date for delays caused by weather, strikes or "
        "changes ordered by the owner, if it gives notice within seven days."
    ),
    "construction-retainage": (
        "The owner withholds five percent of each progress payment as retainage until the "
        "architect certifies substantial completion."
    ),
    "construction-permit": (
        "Building permit BP-2026-3381 allows the addition of a second floor to the structure at "
        "220 Mill Street."
    ),
    "shipping-bill": (
        "Bill of lading MSKU-7740213 lists forty containers of frozen shrimp loaded at Guayaquil "
        "for discharge at Antwerp."
    ),
    "shipping-damage": (
        "The carrier is not liable for damage to cargo caused by improper packing by the "
        "shipper or by inherent defects in the goods."
    ),
    "family-custody": (
        "The parents share joint legal custody of the child; the child lives with the mother "
        "during the school year and with the father in summer."
    ),
    "family-support": (
        "The father pays child support of 900 dollars per month until the child turns eighteen "
        "or finishes high school, whichever is later."
    ),
    "tax-audit": (
        "The tax authority opened an audit of the returns for 2022 and 2023 and requested all "
        "receipts for travel expenses."
    ),
    "tax-penalty": (
        "A return filed after the deadline is charged a penalty of five percent of the unpaid "
        "tax for each month it is late, up to twenty-five percent."
    ),
    "arbitration": (
        "Any dispute arising under this agreement is settled by binding arbitration in Geneva "
        "under the rules of the International Chamber of Commerce."
    ),
}

# (query class, query, the passage it should find)
QUERIES: list[tuple[str, str, str]] = [
    # identifier
    ("identifier", "2026-CV-00417", "case-filing"),
    ("identifier", "case 2025-CR-11893", "case-hearing"),
    ("identifier", "2024-CV-07762", "case-settlement"),
    ("identifier", "2023-AP-00291", "case-appeal"),
    ("identifier", "INV-20931", "invoice-wire"),
    ("identifier", "invoice INV-31877", "invoice-late"),
    ("identifier", "INV-44102", "invoice-dispute"),
    ("identifier", "CLM-88214", "insurance-denial"),
    ("identifier", "POL-7710-C", "insurance-flood"),
    ("identifier", "policy POL-2290-B", "insurance-deductible"),
    ("identifier", "HX-4471-B", "supply-part"),
    ("identifier", "FL-2093", "loan-collateral"),
    ("identifier", "118-22-0457", "property-easement"),
    ("identifier", "US 11,482,907", "ip-patent"),
    ("identifier", "BP-2026-3381", "construction-permit"),
    ("identifier", "MSKU-7740213", "shipping-bill"),
    ("identifier", "WT-5581-Q", "invoice-wire"),
    ("identifier", "Margaret Ellison", "will-executor"),
    ("identifier", "Blue Heron Coffee", "ip-trademark"),
    ("identifier", "Judge Okafor", "case-hearing"),
    # keywords
    ("keywords", "security deposit return thirty days", "lease-deposit"),
    ("keywords", "dog cat fee without consent", "lease-pets"),
    ("keywords", "lease renews automatically notice sixty days", "lease-renewal"),
    ("keywords", "competitor fifty miles twelve months", "employment-noncompete"),
    ("keywords", "overtime forty hours supervisor approval", "employment-overtime"),
    ("keywords", "severance weeks salary year of service", "employment-severance"),
    ("keywords", "confidential information five years", "nda-term"),
    ("keywords", "return destroy documents certify destruction", "nda-return"),
    ("keywords", "interest overdue unpaid balance", "invoice-late"),
    ("keywords", "flood endorsement premium", "insurance-flood"),
    ("keywords", "liquidated damages late delivery", "supply-penalty"),
    ("keywords", "compressors warranty thirty-six months", "supply-warranty"),
    ("keywords", "prime rate plus two percent", "loan-rate"),
    ("keywords", "installment default lender demand balance", "loan-default"),
    ("keywords", "utility easement water pipes", "property-easement"),
    ("keywords", "home inspection contingency", "property-inspection"),
    ("keywords", "royalty net sales filtration license", "ip-license"),
    ("keywords", "data breach seventy-two hours", "privacy-breach"),
    ("keywords", "board quorum majority directors", "corporate-board"),
    ("keywords", "retainage progress payment architect", "construction-retainage"),
    ("keywords", "binding arbitration Geneva", "arbitration"),
    ("keywords", "child support eighteen high school", "family-support"),
    # paraphrase
    ("paraphrase", "when will I get my rental down payment back", "lease-deposit"),
    ("paraphrase", "can I have a pet in my flat", "lease-pets"),
    ("paraphrase", "how do I stop the contract from rolling over", "lease-renewal"),
    ("paraphrase", "am I allowed to join a rival firm after I quit", "employment-noncompete"),
    ("paraphrase", "extra pay for working long weeks", "employment-overtime"),
    ("paraphrase", "compensation if I am laid off", "employment-severance"),
    ("paraphrase", "how long must the secrets stay private", "nda-term"),
    ("paraphrase", "lawsuit over a broken purchasing agreement", "case-filing"),
    ("paraphrase", "the customer says the shipment was incomplete", "invoice-dispute"),
    ("paraphrase", "why was my insurance payout refused", "insurance-denial"),
    ("paraphrase", "when are the products due at the Dutch port warehouse", "supply-delivery"),
    ("paraphrase", "who handles the estate if my sister cannot", "will-executor"),
    ("paraphrase", "who gets the home when I die", "will-bequest"),
    ("paraphrase", "who covers which fees when the building is sold", "property-closing"),
    ("paraphrase", "where is user information kept and for how long", "privacy-data"),
    ("paraphrase", "selling stock to an outsider", "corporate-shares"),
    ("paraphrase", "when can profits be distributed to owners", "corporate-dividend"),
    ("paraphrase", "can the builder finish later because of bad weather", "construction-delay"),
    ("paraphrase", "carrier responsibility for poorly packed freight", "shipping-damage"),
    ("paraphrase", "where does the kid live during the school term", "family-custody"),
    ("paraphrase", "the government is examining my old tax filings", "tax-audit"),
    ("paraphrase", "fine for submitting taxes late", "tax-penalty"),
]
