package main

// Text pools the corpus is drawn from: finance and tax news in Chinese and
// English, the kind of sources refeed was built for.

var zhSentences = []string{
	"国家税务总局发布关于进一步优化增值税发票管理的公告，明确了纳税人申领、开具发票的具体要求。",
	"财政部、税务总局联合印发通知，延续实施小微企业和个体工商户所得税优惠政策至2027年底。",
	"今年一季度，全国税务系统累计为经营主体新增减税降费及退税缓费超过六千亿元。",
	"上证指数早盘高开，银行、保险板块领涨，两市成交额较上一交易日明显放大。",
	"人民币对美元汇率中间价上调132个基点，市场人士认为短期内汇率将保持基本稳定。",
	"中国人民银行宣布下调金融机构存款准备金率0.5个百分点，预计释放长期资金约一万亿元。",
	"专家表示，数字化电子发票的全面推广将显著降低企业的合规成本，提高征管效率。",
	"多地税务部门推出“非接触式”办税服务，纳税人足不出户即可完成申报缴税。",
	"国家统计局数据显示，三月份规模以上工业增加值同比增长百分之六点一，好于市场预期。",
	"个人所得税综合所得年度汇算于3月1日开始，纳税人可通过个人所得税App办理。",
	"海关总署公布，一季度我国货物贸易进出口总值同比增长百分之五，其中出口增长较快。",
	"证监会表示将继续深化资本市场改革，完善退市制度，保护中小投资者的合法权益。",
	"研发费用加计扣除政策进一步优化，制造业企业可在预缴申报时享受优惠。",
	"分析人士指出，房地产市场正在逐步企稳，但仍需政策持续发力以稳定预期。",
	"税务机关提醒纳税人注意防范以“退税”为名的电信诈骗，切勿点击不明链接。",
	"跨境电商出口退税流程进一步简化，平均办理时间缩短至三个工作日以内。",
}

var enSentences = []string{
	"The State Taxation Administration said the new e-invoice rules take effect nationwide next quarter.",
	"Shanghai stocks closed higher on Tuesday as banks and insurers led a broad rally in late trading.",
	"Analysts expect the central bank to keep its benchmark lending rate unchanged at the monthly fixing.",
	"The yuan strengthened past a key level against the dollar after stronger-than-expected export data.",
	"Small businesses will keep paying a reduced corporate income tax rate until the end of 2027.",
	"Industrial output rose 6.1% from a year earlier, beating the median forecast in a Reuters poll.",
	"Regulators said they would tighten delisting rules to protect minority shareholders.",
	"Exporters welcomed faster VAT refunds, which now take fewer than three working days on average.",
	"Bond yields edged lower as investors priced in further easing later in the year.",
	"The ministry published a FAQ on the annual individual income tax reconciliation, open until June 30.",
	"Cross-border e-commerce firms reported record orders ahead of the spring shopping festival.",
	"Property sales stabilised in major cities, though smaller cities continued to see weak demand.",
}

var zhTitles = []string{
	"增值税发票管理新规解读",
	"小微企业所得税优惠政策延续",
	"A股市场午间综述",
	"人民币汇率走势分析",
	"央行降准释放长期资金",
	"个税年度汇算操作指南",
	"一季度宏观经济数据点评",
	"跨境电商出口退税提速",
	"研发费用加计扣除政策问答",
	"房地产市场企稳信号观察",
}

var enTitles = []string{
	"E-invoice rules explained",
	"Markets wrap: banks lead the rally",
	"Yuan outlook for the second quarter",
	"What the reserve ratio cut means for lenders",
	"Income tax reconciliation: a step-by-step guide",
	"Q1 macro data in five charts",
	"VAT refunds for exporters get faster",
	"R&D super deduction: frequently asked questions",
}

var zhWords = []string{"税务新闻", "财经要闻", "政策解读", "市场观察", "宏观经济", "发票管理", "纳税服务", "资本市场", "外汇", "货币政策"}

var authors = []string{"张伟", "李娜", "王芳", "刘洋", "Chen Jing", "Zhao Lei", "Sarah Lin", "Tom Wu", "本报记者", "新华社"}

var categories = []string{"税收政策", "股市", "汇率", "宏观", "Markets", "Tax", "Economy"}

var codeSnippets = []string{
	"func rate(income float64) float64 {\n\tif income <= 36000 {\n\t\treturn 0.03\n\t}\n\treturn 0.10\n}",
	"SELECT region, SUM(refund) AS total\nFROM vat_refunds\nWHERE month >= '2025-01' AND total > 1000\nGROUP BY region;",
	"curl -s 'https://api.example.com/fx?pair=USD/CNY&date=2025-03-01' | jq '.rate'",
	"for year in range(2020, 2026):\n    print(f\"{year}: {tax[year] * 1.03:.2f}\")  # <estimate>",
	"if (invoice.amount > limit && !invoice.verified) {\n  throw new Error(\"需要人工复核 <review>\");\n}",
}
